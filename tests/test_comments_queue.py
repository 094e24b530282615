"""The queue's rows: one-click actions, replies from the site, blocks, and contact privacy."""

import re

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from comments.models import BlockedSender, Comment

QUEUE = reverse("admin:comments_comment_changelist")
SECRET_EMAIL = "hidden.reader@example.com"
SECRET_IP = "198.51.100.42"


def action_url(name, comment):
    return reverse(f"admin:comments_comment_{name}", args=[comment.pk])


@pytest.fixture
def held(article, make_comment):
    return make_comment(
        article,
        name="Hidden Reader",
        email=SECRET_EMAIL,
        ip_address=SECRET_IP,
        status=Comment.Status.PENDING,
        hold_reason="Contains 3 links (more than 2).",
        body="First line.\nSecond line of a question about 40 mg?",
    )


@pytest.fixture
def viewer(db):
    """A custom role that may read comments, and nothing more: not their email or IP."""
    user = User.objects.create_user(
        "viewer", "viewer@staff.example", "pw-long-enough-1", is_staff=True
    )
    user.user_permissions.add(Permission.objects.get(codename="view_comment"))
    return user


def logged_in(user, **kwargs):
    client = Client(**kwargs)
    client.force_login(user)
    return client


def csrf_token(client):
    page = client.get(QUEUE, {"status": "all"})
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


# The rows


def test_each_row_shows_the_whole_comment_article_age_reason_and_its_buttons(
    moderator_client, held, article
):
    html = moderator_client.get(QUEUE).content.decode()
    assert "First line.<br>Second line of a question about 40 mg?" in html
    for text in [
        article.title,
        "Hidden Reader",
        "Contains 3 links",
        "queue-age",
        SECRET_EMAIL,
        SECRET_IP,
    ]:
        assert text in html
    for name in ("approve", "spam", "reject"):
        assert f'form="queue-row-action" formaction="{action_url(name, held)}"' in html
    assert f'href="{action_url("reply", held)}"' in html
    assert f'href="{action_url("block", held)}"' in html
    # The buttons' form stands outside the changelist form (forms cannot nest) and has a token.
    changelist_end = html.index("</form>", html.index('id="changelist-form"'))
    row_form = html.index('<form id="queue-row-action"')
    assert row_form > changelist_end
    assert "csrfmiddlewaretoken" in html[row_form : html.index("</form>", row_form)]
    # The bulk actions stay.
    assertContains(moderator_client.get(QUEUE), 'value="approve"')


@pytest.mark.parametrize(
    "query, title",
    [
        ({}, "Comments awaiting moderation"),
        ({"status": "spam"}, "Comments marked as spam"),
        ({"status": "all"}, "All comments"),
        ({"status": "nonsense"}, "Comments awaiting moderation"),
    ],
)
def test_the_queue_says_what_it_lists(moderator_client, held, query, title):
    html = moderator_client.get(QUEUE, query).content.decode()
    assert f"<h1>{title}</h1>" in html
    assert f"<title>{title} |" in html
    assert "Select comment to change" not in html


def test_one_click_approve_acts_and_goes_back_to_the_queue(moderator, held):
    client = logged_in(moderator, enforce_csrf_checks=True)
    back = f"{QUEUE}?status=pending"
    response = client.post(
        action_url("approve", held), {"csrfmiddlewaretoken": csrf_token(client), "next": back}
    )
    assert response.status_code == 302 and response["Location"] == back
    held.refresh_from_db()
    assert (held.status, held.moderated_by) == ("approved", moderator)
    assertContains(client.get(back), "Comment by Hidden Reader approved.")


@pytest.mark.parametrize(("name", "status"), [("spam", "spam"), ("reject", "rejected")])
def test_one_click_spam_and_reject(moderator_client, held, name, status):
    moderator_client.post(action_url(name, held))
    held.refresh_from_db()
    assert held.status == status


def test_row_actions_need_the_csrf_token(moderator, held):
    client = logged_in(moderator, enforce_csrf_checks=True)
    assert client.post(action_url("approve", held)).status_code == 403
    held.refresh_from_db()
    assert held.status == "pending"


@pytest.mark.parametrize("who", ["anonymous", "viewer", "editor"])
def test_row_actions_need_the_moderation_permission(request, held, who):
    client = Client() if who == "anonymous" else logged_in(request.getfixturevalue(who))
    for name in ("approve", "spam", "reject", "reply", "block"):
        response = client.post(action_url(name, held), {"body": "Hi", "kind": "email"})
        assert response.status_code in (302, 403), name
        if who == "anonymous":
            assert response["Location"].startswith(reverse("admin:login"))
    held.refresh_from_db()
    assert held.status == "pending"
    assert not Comment.objects.filter(parent=held).exists()
    assert not BlockedSender.objects.exists()


def test_get_only_asks(moderator_client, held):
    page = moderator_client.get(action_url("spam", held))
    assert page.status_code == 200
    assertContains(page, "Spam this comment?")
    held.refresh_from_db()
    assert held.status == "pending"


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"]
)
def test_only_a_safe_next_is_followed(moderator_client, held, next_url):
    response = moderator_client.post(action_url("approve", held), {"next": next_url})
    assert response["Location"] == QUEUE


def test_with_javascript_the_answer_is_json_for_the_row(moderator_client, held):
    response = moderator_client.post(action_url("approve", held), HTTP_ACCEPT="application/json")
    assert response.json() == {
        "ok": True,
        "message": "Comment by Hidden Reader approved.",
        "status": "approved",
        "status_label": "Approved",
    }


def test_an_unknown_comment_is_404(moderator_client):
    assert (
        moderator_client.post(reverse("admin:comments_comment_approve", args=[999999])).status_code
        == 404
    )
    assert moderator_client.post("/admin/comments/comment/abc/approve/").status_code in (302, 404)


# Replies from the site


def test_a_reply_from_the_row_is_published_threaded_with_the_badge(
    moderator_client, moderator, held, article
):
    moderator.first_name, moderator.last_name = "Dana", "Derm"
    moderator.save()
    response = moderator_client.post(
        action_url("reply", held), {"body": "Yes, that is common at 40 mg.", "next": QUEUE}
    )
    assert response.status_code == 302
    held.refresh_from_db()
    reply = Comment.objects.get(parent=held)
    assert held.status == "approved"  # the reader's question is published with its answer
    assert (reply.status, reply.staff_author, reply.name, reply.email) == (
        "approved",
        moderator,
        "Dana Derm",
        "",
    )
    assert reply.moderated_by == moderator
    page = Client().get(article.get_absolute_url()).content.decode()
    replies = page[page.index(f'id="comment-{held.pk}"') :]
    assert f'<li class="comment" id="comment-{reply.pk}">' in replies.split("</ol>")[0]
    assert re.search(r'Dana Derm</span> <span class="staff-badge">Editorial team</span>', page)


def test_the_badge_cannot_be_typed_into_the_public_form(
    client, article, comment_form_data, moderator
):
    from comments.moderation import approve_comment

    client.post(
        reverse("comments:post", args=[article.pk]),
        comment_form_data(
            article, name="Editorial team", staff_author=moderator.pk, is_staff_reply="1"
        ),
    )
    comment = Comment.objects.get()
    assert comment.staff_author is None
    approve_comment(comment, moderator)
    assertNotContains(Client().get(article.get_absolute_url()), 'class="staff-badge"')


def test_a_reply_can_be_written_from_the_comments_admin_page(moderator_client, held):
    change = moderator_client.get(reverse("admin:comments_comment_change", args=[held.pk]))
    assertContains(change, f'href="{action_url("reply", held)}?next=')
    form = moderator_client.get(action_url("reply", held))
    assertContains(form, "Publish reply")
    assertContains(form, "Second line of a question")


def test_a_reply_keeps_the_line_breaks_a_browser_sends_as_crlf(moderator_client, held):
    body = "Thank you for asking.\r\n\r\nKeep using the balm."
    moderator_client.post(action_url("reply", held), {"body": body})
    reply = Comment.objects.get(parent=held)
    assert reply.body == "Thank you for asking.\n\nKeep using the balm."
    assert "Thank you for asking.<br><br>Keep using the balm." in reply.html


def test_an_empty_or_too_deep_reply_is_refused(
    moderator_client, held, article, make_comment, settings
):
    assertContains(
        moderator_client.post(action_url("reply", held), {"body": "   "}),
        "Please write your reply.",
    )
    settings.COMMENTS_MAX_DEPTH = 2
    child = make_comment(article, parent=make_comment(article))
    response = moderator_client.post(
        action_url("reply", child), {"body": "Too deep."}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400 and "nested as deeply" in response.json()["message"]
    assert not Comment.objects.filter(body="Too deep.").exists()


# Blocks


@pytest.mark.parametrize(
    ("kind", "value"),
    [("email", SECRET_EMAIL), ("domain", "example.com"), ("ip", f"{SECRET_IP}/32")],
)
def test_a_moderator_blocks_the_sender_from_the_row(moderator_client, moderator, held, kind, value):
    page = moderator_client.get(action_url("block", held))
    assertContains(page, value)
    response = moderator_client.post(action_url("block", held), {"kind": kind})
    assert response.status_code == 302
    block = BlockedSender.objects.get()
    assert (block.kind, block.value, block.created_by) == (kind, value, moderator)
    held.refresh_from_db()
    assert held.status == "spam"


def test_an_ipv6_sender_is_blocked_by_its_64(moderator_client, article, make_comment):
    comment = make_comment(article, status="pending", ip_address="2001:db8:aa:bb:1:2:3:4")
    moderator_client.post(action_url("block", comment), {"kind": "ip"})
    assert BlockedSender.objects.get().value == "2001:db8:aa:bb::/64"


def test_blocks_are_listed_edited_and_removed_by_moderators_only(
    moderator_client, viewer, editor, moderator
):
    block = BlockedSender.objects.create(kind="domain", value="spam.example", created_by=moderator)
    listing = reverse("admin:comments_blockedsender_changelist")
    assertContains(moderator_client.get(listing), "spam.example")
    change = reverse("admin:comments_blockedsender_change", args=[block.pk])
    response = moderator_client.post(
        change, {"kind": "domain", "value": " Spam.Example. ", "note": "n"}
    )
    assert response.status_code == 302
    block.refresh_from_db()
    assert block.value == "spam.example"
    bad = moderator_client.post(
        reverse("admin:comments_blockedsender_add"), {"kind": "ip", "value": "nope"}
    )
    assertContains(bad, "Enter an IP address or network")
    moderator_client.post(
        reverse("admin:comments_blockedsender_delete", args=[block.pk]), {"post": "yes"}
    )
    assert not BlockedSender.objects.exists()
    for user in (viewer, editor):
        assert logged_in(user).get(listing).status_code == 403


def test_the_moderators_group_may_block_and_editors_may_not(db):
    moderators = set(
        Group.objects.get(name="Moderators").permissions.values_list("codename", flat=True)
    )
    editors = set(Group.objects.get(name="Editors").permissions.values_list("codename", flat=True))
    assert {
        "add_blockedsender",
        "change_blockedsender",
        "delete_blockedsender",
        "view_blockedsender",
    } <= moderators
    assert not {p for p in editors if p.endswith("blockedsender")}


# Nothing in the query string reaches an email or IP without the contact permission


@pytest.mark.parametrize(
    "query",
    [
        {"email__istartswith": "h"},
        {"email__startswith": "hidden"},
        {"email": SECRET_EMAIL},
        {"email__exact": SECRET_EMAIL},
        {"ip_address__startswith": "198"},
        {"ip_address": SECRET_IP},
        {"user_agent__icontains": "Mozilla"},
        {"replies__email__startswith": "h"},
        {"parent__email__istartswith": "h"},
        {"thread__ip_address__startswith": "198"},
        {"article__comments__email__startswith": "h"},
        {"moderated_by__email__startswith": "m"},
        {"status": "all", "email__iregex": "^h"},
    ],
)
def test_contact_lookups_are_refused_without_the_permission(
    viewer, held, make_comment, article, query
):
    make_comment(article, parent=None, status="pending", email="other@example.com")
    response = logged_in(viewer).get(QUEUE, query)
    assert response.status_code == 400
    assert SECRET_EMAIL not in response.content.decode()


def test_the_same_lookups_work_for_moderators(moderator_client, held, article, make_comment):
    make_comment(article, status="pending", email="other@example.com", body="Other.")
    html = moderator_client.get(QUEUE, {"email__istartswith": "hidden"}).content.decode()
    assert "Second line" in html and "Other." not in html


@pytest.mark.parametrize(
    "query", [{"q": "hidden.reader@"}, {"q": SECRET_IP}, {"o": "1"}, {"o": "-2.1"}]
)
def test_search_and_ordering_say_nothing_about_contact_without_the_permission(viewer, held, query):
    response = logged_in(viewer).get(QUEUE, query)
    assert response.status_code in (200, 302)
    html = response.content.decode()
    table = re.search(r'<table id="result_list">.*?</table>', html, re.S)
    results = table.group(0) if table else ""
    assert SECRET_EMAIL not in html
    assert SECRET_IP not in results
    if query.get("q"):
        assert "Second line" not in html  # not found through the email or IP
