"""Email about comments: moderators hear of held comments; commenters who asked hear back.

Tests run each task as it is queued (tests/conftest.py: the immediate
backend) once the transaction commits; tests/test_mail_queue.py proves the
database queue, its retries and the worker.
"""

import logging
import re

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.urls import reverse

from comments import subscriptions
from comments.models import Comment, Notification, Subscription
from comments.moderation import approve_comment, reject_comment
from comments.queue import post_staff_reply


class FailingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("the mail server is down")


def post(client, article, data, **extra):
    return client.post(reverse("comments:post", args=[article.pk]), data, **extra)


def link_in(message, name):
    """The absolute URL of the named view (confirm, unsubscribe) in `message`'s body."""
    return re.search(rf"https?://\S+/comments/{name}/\S+/", message.body).group(0)


def sent_to(address):
    return [m for m in mail.outbox if m.to == [address]]


def path_of(url):
    return re.sub(r"^https?://[^/]+", "", url)


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://blog.example"
    settings.MODERATOR_EMAILS = []


# Moderators


def test_a_held_comment_emails_the_moderators_after_commit_with_a_link_to_its_row(
    client, article, comment_form_data, settings, django_capture_on_commit_callbacks
):
    settings.MODERATOR_EMAILS = ["mods@example.com", "lead@example.com"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(client, article, comment_form_data(article, body="Is this normal?"))
    assert response.status_code == 302
    assert len(callbacks) == 1
    assert mail.outbox == []  # nothing is sent before the comment is committed
    callbacks[0]()
    comment = Comment.objects.get()
    [message] = mail.outbox
    assert message.to == ["mods@example.com", "lead@example.com"]
    assert article.title in message.subject
    queue_row = f"https://blog.example{reverse('admin:comments_comment_changelist')}?status=all&id={comment.pk}"
    assert queue_row in message.body
    change = reverse("admin:comments_comment_change", args=[comment.pk])
    assert f"https://blog.example{change}" in message.body
    assert "Is this normal?" in message.body
    assert "Held for moderation (all comments are)." in message.body
    assert Notification.objects.get().outcome == "sent"


def test_the_queue_link_opens_on_that_one_comment(client, moderator, article, make_comment):
    make_comment(article, status="pending", body="Another one.")
    mine = make_comment(article, status="approved", body="This one.")
    client.force_login(moderator)
    page = client.get(
        reverse("admin:comments_comment_changelist"), {"status": "all", "id": mine.pk}
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "This one." in html and "Another one." not in html


def test_without_moderator_emails_the_active_moderators_are_told(
    client, article, comment_form_data, django_capture_on_commit_callbacks
):
    moderators = Group.objects.get(name="Moderators")
    for username, email, active in [
        ("mod1", "mod1@example.com", True),
        ("mod2", "", True),
        ("gone", "gone@example.com", False),
    ]:
        User.objects.create_user(username, email, is_active=active).groups.add(moderators)
    User.objects.create_user("bystander", "bystander@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        post(client, article, comment_form_data(article))
    assert [m.to for m in mail.outbox] == [["mod1@example.com"]]


@pytest.mark.parametrize("body", ["casino night", "ordinary words"])
def test_only_held_comments_are_notified(
    client,
    article,
    comment_form_data,
    settings,
    django_capture_on_commit_callbacks,
    make_comment,
    body,
):
    settings.MODERATOR_EMAILS = ["mods@example.com"]
    settings.COMMENTS_DISALLOWED_WORDS = ["casino"]
    settings.COMMENTS_AUTO_APPROVE_RETURNING = True
    make_comment(article, email="ada@example.com", body="Earlier.")  # so "ordinary" is approved
    with django_capture_on_commit_callbacks(execute=True):
        post(client, article, comment_form_data(article, body=body))
    assert Comment.objects.get(body=body).status in ("spam", "approved")
    assert mail.outbox == []


def test_a_failing_mail_server_is_logged_and_the_comment_kept(
    client, article, comment_form_data, settings, django_capture_on_commit_callbacks, caplog
):
    settings.MODERATOR_EMAILS = ["mods@example.com"]
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    with (
        caplog.at_level(logging.ERROR, logger="comments.notifications"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = post(client, article, comment_form_data(article, body="Kept anyway."))
    assert response.status_code == 302
    assert Comment.objects.get().body == "Kept anyway."
    [record] = [r for r in caplog.records if r.name == "comments.notifications"]
    assert record.event == "notification_failed" and record.attempt == 1
    assert record.exc_info and "the mail server is down" in str(record.exc_info[1])
    # Kept for a later attempt, not lost.
    notification = Notification.objects.get()
    assert (notification.sent_at, notification.outcome) == (None, "")
    assert "ConnectionRefusedError" in notification.last_error
    page = client.get(article.get_absolute_url())
    assert "Your comment is awaiting moderation." in page.content.decode()


def test_no_recipients_is_a_warning_not_an_error(
    client, article, comment_form_data, django_capture_on_commit_callbacks, caplog
):
    with (
        caplog.at_level(logging.WARNING, logger="comments.notifications"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert post(client, article, comment_form_data(article)).status_code == 302
    assert mail.outbox == []
    assert any("no moderator has an email" in r.getMessage() for r in caplog.records)
    assert Notification.objects.get().outcome == "skipped"


# Commenters: confirming an address


def test_the_box_is_unticked_and_says_what_it_does(client, article):
    html = client.get(article.get_absolute_url()).content.decode()
    box = re.search(r'<input type="checkbox" name="notify"[^>]*>', html).group(0)
    assert "checked" not in box
    assert "Email me when my comment is published or someone replies" in html


def post_asking_to_hear_back(client, article, comment_form_data, capture, ip=None, **fields):
    extra = {"REMOTE_ADDR": ip} if ip else {}
    with capture(execute=True):
        return post(client, article, comment_form_data(article, notify="on", **fields), **extra)


def test_asking_to_hear_back_sends_one_confirmation_and_nothing_else(
    client, article, comment_form_data, django_capture_on_commit_callbacks
):
    response = post_asking_to_hear_back(
        client, article, comment_form_data, django_capture_on_commit_callbacks
    )
    assert response.status_code == 302
    assert Comment.objects.get().notify is True
    [message] = mail.outbox
    assert message.to == ["ada@example.com"]
    assert "confirm" in message.subject.lower()
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"] == f"<{link_in(message, 'unsubscribe')}>"
    # The links and the database name the address by a signed, keyed hash only.
    assert "ada" not in link_in(message, "confirm") and "ada" not in link_in(message, "unsubscribe")
    assert "ada@example.com" not in str(list(Subscription.objects.values()))
    # Approval before confirmation sends nothing.
    mail.outbox.clear()
    approve_comment(Comment.objects.get(), None)
    assert mail.outbox == []


def test_the_answer_does_not_say_whether_an_address_is_confirmed(
    article, comment_form_data, django_capture_on_commit_callbacks
):
    subscriptions.confirm(subscriptions.address_hash("known@example.com"))
    answers = []
    for email in ("known@example.com", "unknown@example.com"):
        reader = Client()
        response = post_asking_to_hear_back(
            reader, article, comment_form_data, django_capture_on_commit_callbacks,
            email=email, body=f"From {email}.",
        )  # fmt: skip
        page = reader.get(response["Location"]).content.decode()
        answers.append(
            (
                response.status_code,
                response["Location"],
                re.findall(r'class="message[^"]*">([^<]*)<', page),
            )
        )
    assert answers[0] == answers[1]


def confirm_by_link(message):
    """Follow the confirmation link as its owner would: open it, press the button."""
    reader = Client()
    url = path_of(link_in(message, "confirm"))
    page = reader.get(url)
    assert page.status_code == 200 and "Confirm my email address" in page.content.decode()
    assert page["Referrer-Policy"] == "no-referrer"
    assert "no-cache" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]
    return reader.post(url)


def test_the_confirmation_link_confirms_on_post_only(
    client, article, comment_form_data, django_capture_on_commit_callbacks
):
    post_asking_to_hear_back(client, article, comment_form_data, django_capture_on_commit_callbacks)
    [message] = mail.outbox
    url = path_of(link_in(message, "confirm"))
    Client().get(url)  # a mail scanner following the link confirms nothing
    assert not subscriptions.may_email("ada@example.com")
    response = confirm_by_link(message)
    assert response.status_code == 200 and "Email address confirmed" in response.content.decode()
    assert subscriptions.may_email("ADA@example.com ")


@pytest.mark.parametrize("token", ["nonsense", "abc:def"])
def test_a_forged_confirmation_link_is_refused(client, db, token):
    response = client.post(reverse("comments:confirm", args=[token]))
    assert response.status_code == 400
    assert not Subscription.objects.exists()


def test_then_one_email_on_approval_and_one_per_reply(
    client, article, comment_form_data, django_capture_on_commit_callbacks, moderator, make_comment
):
    post_asking_to_hear_back(client, article, comment_form_data, django_capture_on_commit_callbacks)
    confirm_by_link(sent_to("ada@example.com")[0])
    mail.outbox.clear()
    mine = Comment.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        approve_comment(mine, moderator)
        approve_comment(mine, moderator)  # again: no second email
    [published] = sent_to("ada@example.com")
    assert published.to == ["ada@example.com"] and "published" in published.subject
    assert f"https://blog.example{mine.get_absolute_url()}" in published.body
    assert published.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    mail.outbox.clear()
    other = make_comment(
        article,
        parent=mine,
        status="pending",
        name="Bea",
        email="bea@example.com",
        body="Same here!",
    )
    with django_capture_on_commit_callbacks(execute=True):
        approve_comment(other, moderator)
        staff_reply = post_staff_reply(mine, moderator, "Thank you for asking.")
    first, second = sent_to("ada@example.com")
    assert "Bea replied" in first.subject and "Same here!" in first.body
    assert "bea@example.com" not in first.body + str(first.message())  # no other reader's address
    assert "(editorial team)" in second.body and staff_reply.body in second.body
    for message in mail.outbox:
        assert message.extra_headers["List-Unsubscribe"].startswith("<https://blog.example/")


def test_no_email_about_a_reply_to_yourself_or_when_nobody_asked(
    client, article, comment_form_data, django_capture_on_commit_callbacks, moderator, make_comment
):
    subscriptions.confirm(subscriptions.address_hash("ada@example.com"))
    asked = make_comment(article, email="ada@example.com", notify=True)
    silent = make_comment(article, email="sam@example.com", notify=False)
    subscriptions.confirm(subscriptions.address_hash("sam@example.com"))
    with django_capture_on_commit_callbacks(execute=True):
        approve_comment(
            make_comment(article, parent=asked, email="ADA@example.com", status="pending"),
            moderator,
        )
        approve_comment(make_comment(article, parent=silent, status="pending"), moderator)
        reject_comment(make_comment(article, parent=asked, status="pending"), moderator)
    assert mail.outbox == []


def test_unsubscribe_is_one_post_without_a_token_and_get_only_asks(
    client, article, comment_form_data, django_capture_on_commit_callbacks, moderator
):
    post_asking_to_hear_back(client, article, comment_form_data, django_capture_on_commit_callbacks)
    [confirmation] = sent_to("ada@example.com")
    confirm_by_link(confirmation)
    url = path_of(link_in(confirmation, "unsubscribe"))
    page = Client().get(url)
    assert page.status_code == 200 and "Unsubscribe" in page.content.decode()
    assert subscriptions.may_email("ada@example.com")  # GET changes nothing
    # What a mail provider sends (RFC 8058): a POST from elsewhere, no cookie, no CSRF token.
    one_click = Client(enforce_csrf_checks=True).post(
        url,
        {"List-Unsubscribe": "One-Click"},
        HTTP_ORIGIN="https://mail.example",
        HTTP_SEC_FETCH_SITE="cross-site",
    )
    assert one_click.status_code == 200
    assert not subscriptions.may_email("ada@example.com")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        approve_comment(Comment.objects.get(), moderator)
    assert sent_to("ada@example.com") == []
    # The owner may change their mind from the same page.
    Client().post(url, {"resubscribe": "1"})
    assert subscriptions.may_email("ada@example.com")


def test_a_forged_unsubscribe_link_changes_nothing(client, db):
    subscriptions.confirm(subscriptions.address_hash("ada@example.com"))
    token = subscriptions.unsubscribe_token("ada@example.com")
    response = client.post(reverse("comments:unsubscribe", args=[token[:-2] + "xx"]))
    assert response.status_code == 400
    assert subscriptions.may_email("ada@example.com")


def test_confirmation_requests_are_limited_per_address_and_per_sender(
    article, comment_form_data, django_capture_on_commit_callbacks, settings
):
    settings.COMMENTS_FLOOD_LIMIT = 100
    settings.COMMENTS_CONFIRMATIONS_PER_SENDER = 3
    # One address, many posts from many places: one email a day.
    for n in range(4):
        post_asking_to_hear_back(
            Client(), article, comment_form_data, django_capture_on_commit_callbacks,
            email="victim@example.com", body=f"Post {n}.", ip=f"198.51.100.{n + 1}",
        )  # fmt: skip
    assert [m.to for m in mail.outbox] == [["victim@example.com"]]
    # One sender, many addresses (IPv6 addresses of one /64 count as one sender).
    mail.outbox.clear()
    for n in range(5):
        post_asking_to_hear_back(
            Client(), article, comment_form_data, django_capture_on_commit_callbacks,
            email=f"person{n}@example.com", body=f"Hello {n}.", ip=f"2001:db8:1:2::{n + 1}",
        )  # fmt: skip
    assert len(mail.outbox) == 3


def test_an_unsubscribed_address_gets_no_confirmation_request(
    client, article, comment_form_data, django_capture_on_commit_callbacks
):
    subscriptions.unsubscribe(subscriptions.address_hash("ada@example.com"))
    post_asking_to_hear_back(client, article, comment_form_data, django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_spam_asks_for_no_confirmation(
    client, article, comment_form_data, django_capture_on_commit_callbacks, settings
):
    settings.COMMENTS_DISALLOWED_WORDS = ["casino"]
    post_asking_to_hear_back(
        client, article, comment_form_data, django_capture_on_commit_callbacks, body="casino"
    )
    assert mail.outbox == []


def test_erase_and_export_cover_the_subscription(
    client, article, comment_form_data, django_capture_on_commit_callbacks
):
    import io
    import json

    from django.core.management import call_command

    post_asking_to_hear_back(client, article, comment_form_data, django_capture_on_commit_callbacks)
    confirm_by_link(mail.outbox[0])
    out = io.StringIO()
    call_command("export_commenter", "ada@example.com", stdout=out, stderr=io.StringIO())
    exported = json.loads(out.getvalue())
    assert exported["email_subscription"]["confirmed_at"]
    assert exported["comments"][0]["email_me_about_it"] is True
    call_command("erase_commenter", "ada@example.com", stdout=io.StringIO())
    assert not Subscription.objects.exists()
    assert Comment.objects.get().notify is False
