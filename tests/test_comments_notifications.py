"""Moderators hear about held comments after the comment is safely stored."""

import logging

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.urls import reverse

from comments.models import Comment


class FailingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("the mail server is down")


def post(client, article, data):
    return client.post(reverse("comments:post", args=[article.pk]), data)


def test_a_held_comment_emails_the_moderators_after_commit(
    client, article, comment_form_data, settings, django_capture_on_commit_callbacks
):
    settings.MODERATOR_EMAILS = ["mods@example.com", "lead@example.com"]
    settings.SITE_URL = "https://blog.example"
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
    assert (
        f"https://blog.example{reverse('admin:comments_comment_change', args=[comment.pk])}"
        in message.body
    )
    assert "Is this normal?" in message.body
    assert "Held for moderation (all comments are)." in message.body


def test_without_moderator_emails_the_active_moderators_are_told(
    client, article, comment_form_data, settings, django_capture_on_commit_callbacks
):
    settings.MODERATOR_EMAILS = []
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
    make_comment(
        article, email="ada@example.com", body="Earlier."
    )  # so "ordinary" is auto-approved
    with django_capture_on_commit_callbacks(execute=True):
        post(client, article, comment_form_data(article, body=body))
    assert Comment.objects.get(body=body).status in ("spam", "approved")
    assert mail.outbox == []  # the callbacks ran (an approved one renders the page ahead): no mail


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
    assert record.exc_info and "the mail server is down" in str(record.exc_info[1])
    # The reader still gets the confirmation and sees the comment as theirs.
    page = client.get(article.get_absolute_url())
    assert "Your comment is awaiting moderation." in page.content.decode()
    assert "Kept anyway." in page.content.decode()


def test_no_recipients_is_a_warning_not_an_error(
    client, article, comment_form_data, settings, django_capture_on_commit_callbacks, caplog
):
    settings.MODERATOR_EMAILS = []
    with (
        caplog.at_level(logging.WARNING, logger="comments.notifications"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert post(client, article, comment_form_data(article)).status_code == 302
    assert mail.outbox == []
    assert any("no moderator has an email" in r.getMessage() for r in caplog.records)
