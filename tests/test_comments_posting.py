"""The public comment form: what readers see, what is saved, and what is refused."""

import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from comments.models import Comment


def post_url(article):
    return reverse("comments:post", args=[article.pk])


def text_of(html):
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def field_error(response, name):
    """The error list rendered beside field `name` (empty string when none)."""
    html = response.content.decode()
    match = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>', html, re.S)
    return text_of(match.group(1)) if match else ""


def form_errors(response):
    match = re.search(r'<div class="form-errors">(.*?)</div>', response.content.decode(), re.S)
    return text_of(match.group(1)) if match else ""


# The form as readers see it


def test_article_page_shows_the_form_with_labels_required_marks_and_notes(client, article):
    response = client.get(article.get_absolute_url())
    html = response.content.decode()
    text = text_of(html)
    assert "Leave a Reply" in text
    assert "Your email address will not be published. Required fields are marked *" in text
    assert "do not post personal medical details" in text
    for name, label, required in [
        ("body", "Comment", True),
        ("name", "Name", True),
        ("email", "Email", True),
        ("website", "Website", False),
    ]:
        label_html = re.search(rf'<label for="id_{name}">(.*?)</label>', html, re.S).group(1)
        assert label in label_html
        assert ('class="required"' in label_html) is required
        input_tag = re.search(rf'<(?:input|textarea)[^>]*id="id_{name}"[^>]*>', html).group(0)
        assert (" required" in input_tag) is required
    # Nothing in the form is the visitor's own: the page can be shared by every reader.
    assert "csrfmiddlewaretoken" not in html and 'name="timestamp"' not in html
    # The fragment brings a browser that gets the page back with errors to the form.
    assert f'action="{post_url(article)}#comment-form"' in html


def test_honeypot_is_hidden_from_people_and_assistive_technology(client, article):
    html = client.get(article.get_absolute_url()).content.decode()
    wrapper = re.search(r'<div class="visually-hidden" aria-hidden="true">(.*?)</div>', html, re.S)
    assert wrapper, "the honeypot sits in a visually hidden, aria-hidden wrapper"
    honeypot = re.search(r"<input[^>]*name=\"honeypot\"[^>]*>", wrapper.group(1)).group(0)
    assert 'tabindex="-1"' in honeypot and 'autocomplete="off"' in honeypot


def test_a_reader_comment_is_saved_pending_and_redirects_with_a_message(
    client, article, comment_form_data
):
    response = client.post(
        post_url(article),
        comment_form_data(article, website="https://ada.example"),
        HTTP_USER_AGENT="TestBrowser/1.0",
        REMOTE_ADDR="198.51.100.9",
    )
    assertRedirects(
        response, article.get_absolute_url() + "#comments", fetch_redirect_response=False
    )
    comment = Comment.objects.get()
    assert comment.status == Comment.Status.PENDING
    assert comment.hold_reason == "Held for moderation (all comments are)."
    assert (comment.name, comment.email, comment.website) == (
        "Ada Reader",
        "ada@example.com",
        "https://ada.example",
    )
    assert comment.ip_address == "198.51.100.9"
    assert comment.user_agent == "TestBrowser/1.0"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Your comment is awaiting moderation."
    ]


def test_only_the_commenter_sees_their_pending_comment(client, article, comment_form_data):
    client.post(post_url(article), comment_form_data(article, body="My own words, pending."))
    own_page = client.get(article.get_absolute_url())
    assertContains(own_page, "My own words, pending.")
    assertContains(own_page, "Your comment is awaiting moderation.")
    assertContains(own_page, "Your comment is awaiting moderation.", count=2)  # message + mark

    stranger = Client().get(article.get_absolute_url())
    assertNotContains(stranger, "My own words, pending.")


def test_the_commenters_pending_list_is_per_article(client, make_article, comment_form_data):
    first, second = make_article(), make_article()
    client.post(post_url(first), comment_form_data(first, body="About the first article."))
    assertNotContains(client.get(second.get_absolute_url()), "About the first article.")


def test_once_approved_the_comment_is_public_and_no_longer_marked(
    client, article, comment_form_data, moderator
):
    from comments.moderation import approve_comment

    client.post(post_url(article), comment_form_data(article, body="Approved soon."))
    approve_comment(Comment.objects.get(), moderator)
    for reader in (client, Client()):
        page = reader.get(article.get_absolute_url())
        assertContains(page, "Approved soon.", count=1)
    assertNotContains(Client().get(article.get_absolute_url()), "awaiting moderation")


def test_a_reply_is_threaded_under_its_parent(client, article, make_comment, comment_form_data):
    parent = make_comment(article)
    response = client.post(post_url(article), comment_form_data(article, reply_to=parent.pk))
    assert response.status_code == 302
    reply = Comment.objects.get(parent=parent)
    assert (reply.thread_id, reply.depth) == (parent.pk, 1)


def test_reply_link_prefills_the_form_without_javascript(client, article, make_comment):
    parent = make_comment(article, name="Grace")
    html = client.get(article.get_absolute_url() + f"?replyto={parent.pk}").content.decode()
    assert f'<input type="hidden" name="reply_to" value="{parent.pk}">' in html
    assert "Replying to" in text_of(html) and "Grace" in text_of(html)


@pytest.mark.parametrize("replyto", ["abc", "-1", "0", "99999999999999999999999999"])
def test_a_nonsense_replyto_parameter_is_ignored(client, article, replyto):
    response = client.get(article.get_absolute_url(), {"replyto": replyto})
    assert response.status_code == 200
    assertNotContains(response, 'name="reply_to"')


# Bad input: a clear message beside the field, what was typed kept, nothing saved


LONG = "x" * 5001


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("body", "", "Please write your comment."),
        ("body", "   \n\t  ", "Please write your comment."),
        ("body", "\u200b\u200b", "Please fill in this field."),
        ("body", LONG, "Please keep your comment under 5000 characters (it has 5001)."),
        ("body", "nul \x00 byte", "Null characters are not allowed."),
        ("body", "bell \x07 char", "Please remove the control characters."),
        ("body", "escape \x1b[31m red", "Please remove the control characters."),
        ("body", "c1 \x85 char", "Please remove the control characters."),
        ("body", "evil \u202e txt.exe", "override characters"),
        ("body", "isolate \u2066 here", "override characters"),
        ("name", "", "Please enter your name"),
        ("name", "    ", "Please enter your name"),
        ("name", "n" * 101, "Please keep your name under 100 characters."),
        ("name", "Ada\nLovelace", "Please remove the control characters."),
        ("name", "Ada\tLovelace", "Please remove the control characters."),
        ("name", "\u202eecilA", "override characters"),
        ("email", "", "Please enter your email address."),
        ("email", "not-an-email", "Enter a valid email address"),
        ("email", "a@b", "Enter a valid email address"),
        ("email", "ada@example.com\u202e", "override characters"),
        ("email", ("a" * 250) + "@example.com", "under 254 characters"),
        ("website", "javascript:alert(1)", "starting with http:// or https://"),
        ("website", "JaVaScRiPt:alert(document.cookie)", "starting with http:// or https://"),
        (
            "website",
            "data:text/html,<script>alert(1)</script>",
            "starting with http:// or https://",
        ),
        ("website", "ftp://files.example.com/", "starting with http:// or https://"),
        ("website", "https://" + "w" * 200 + ".example", "under 200 characters"),
    ],
)
def test_bad_input_is_refused_beside_the_field_with_the_value_kept(
    client, article, comment_form_data, field, value, message
):
    other_field = "name" if field != "name" else "body"
    data = comment_form_data(article, **{field: value})
    response = client.post(post_url(article), data)
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert Comment.objects.count() == 0
    # What the reader typed comes back in the form, the refused value included.
    html = response.content.decode()
    assert escape(data[other_field]) in html
    if value.isprintable() and value.strip():
        assert escape(value) in html
    # The page is the article again, with a working form.
    assert article.title in html
    assert f'<form method="post" action="{post_url(article)}#comment-form"' in html


def test_line_breaks_count_once_as_the_browser_counted_them(client, article, comment_form_data):
    # Browsers send a textarea's line breaks as CRLF; its maxlength counts each once.
    body = "\r\n".join(["x" * 450] * 10 + ["x" * 490])  # 5,000 characters, 10 line breaks
    response = client.post(post_url(article), comment_form_data(article, body=body))
    assert response.status_code == 302
    assert Comment.objects.get().body == body.replace("\r\n", "\n")

    longer = body + "x"
    response = client.post(post_url(article), comment_form_data(article, body=longer))
    assert response.status_code == 400
    assert "(it has 5001)" in field_error(response, "body")


@pytest.mark.parametrize("field", ["body", "name", "email"])
def test_a_missing_required_field_is_refused(client, article, comment_form_data, field):
    response = client.post(post_url(article), comment_form_data(article, **{field: None}))
    assert response.status_code == 400
    assert field_error(response, field)
    assert not Comment.objects.exists()


def test_typed_values_are_kept_escaped(client, article, comment_form_data):
    body = '<script>alert("x")</script> & more'
    response = client.post(post_url(article), comment_form_data(article, body=body, email="bad"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in html
    assert '<script>alert("x")' not in html


def test_a_valid_website_without_scheme_gets_https(client, article, comment_form_data):
    client.post(post_url(article), comment_form_data(article, website="ada.example.org"))
    assert Comment.objects.get().website == "https://ada.example.org"


def test_windows_line_endings_are_normalised_and_the_body_stripped(
    client, article, comment_form_data
):
    client.post(post_url(article), comment_form_data(article, body="  one\r\ntwo\rthree  \r\n"))
    assert Comment.objects.get().body == "one\ntwo\nthree"


# Bots: the honeypot


def test_a_filled_honeypot_is_refused_and_nothing_is_saved(client, article, comment_form_data):
    response = client.post(
        post_url(article), comment_form_data(article, honeypot="http://spam.example")
    )
    assert response.status_code == 400
    assert "could not be sent" in form_errors(response)
    assert not Comment.objects.exists()


# Where a comment may not go


def test_a_draft_article_takes_no_comments(client, draft, comment_form_data):
    response = client.post(post_url(draft), comment_form_data(draft))
    assert response.status_code == 404
    assert not Comment.objects.exists()


def test_a_scheduled_article_takes_no_comments(client, make_article, comment_form_data):
    from datetime import timedelta

    from django.utils import timezone

    scheduled = make_article(published_at=timezone.now() + timedelta(days=1))
    assert client.post(post_url(scheduled), comment_form_data(scheduled)).status_code == 404


def test_an_unknown_article_is_404(client, article, comment_form_data):
    response = client.post(
        reverse("comments:post", args=[article.pk + 999]), comment_form_data(article)
    )
    assert response.status_code == 404


def test_get_on_the_post_url_is_refused(client, article):
    assert client.get(post_url(article)).status_code == 405


def test_a_closed_article_says_so_and_refuses_posts(client, make_article, comment_form_data):
    closed = make_article(allow_comments=False)
    page = client.get(closed.get_absolute_url())
    assertContains(page, "Comments are closed on this article.")
    assertNotContains(page, '<form method="post"')
    response = client.post(post_url(closed), comment_form_data(closed))
    assert response.status_code == 403
    assertContains(response, "Comments are closed", status_code=403)
    assert not Comment.objects.exists()


def test_comments_close_n_days_after_publishing(client, make_article, comment_form_data, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.COMMENTS_CLOSE_AFTER_DAYS = 30
    old = make_article(published_at=timezone.now() - timedelta(days=31))
    recent = make_article(published_at=timezone.now() - timedelta(days=29))
    assertContains(client.get(old.get_absolute_url()), "Comments are closed on this article.")
    assert client.post(post_url(old), comment_form_data(old)).status_code == 403
    assert client.post(post_url(recent), comment_form_data(recent)).status_code == 302


def test_closed_articles_show_no_reply_links(client, make_article, make_comment):
    closed = make_article(allow_comments=False)
    make_comment(closed, body="An old approved comment.")
    page = client.get(closed.get_absolute_url())
    assertContains(page, "An old approved comment.")
    assertNotContains(page, "replyto=")


def test_draft_preview_shows_no_form(client, draft, editor):
    client.force_login(editor)
    page = client.get(draft.get_absolute_url())
    assert page.status_code == 200
    assertContains(page, "Comments open once the article is published.")


@pytest.mark.parametrize("target", ["pending", "spam", "rejected", "other_article", "unknown"])
def test_a_reply_must_answer_a_published_comment_of_the_same_article(
    client, article, make_article, make_comment, comment_form_data, target
):
    if target == "other_article":
        parent_pk = make_comment(make_article()).pk
    elif target == "unknown":
        parent_pk = 424242
    else:
        parent_pk = make_comment(article, status=target).pk
    before = Comment.objects.count()
    response = client.post(
        post_url(article), comment_form_data(article, reply_to=parent_pk, body="My reply.")
    )
    assert response.status_code == 400
    assert "You can only reply to a published comment on this article." in form_errors(response)
    assertContains(response, "My reply.", status_code=400)
    assertNotContains(response, f'name="reply_to" value="{parent_pk}"', status_code=400)
    assert Comment.objects.count() == before


@pytest.mark.parametrize("reply_to", ["abc", "-3", "0", "1e5", "99999999999999999999999999"])
def test_a_malformed_reply_to_is_a_form_error_not_a_crash(
    client, article, comment_form_data, reply_to
):
    response = client.post(post_url(article), comment_form_data(article, reply_to=reply_to))
    assert response.status_code == 400
    assert "You can only reply to a published comment" in form_errors(response)


def test_replies_stop_at_the_depth_limit(
    client, article, make_comment, comment_form_data, settings
):
    settings.COMMENTS_MAX_DEPTH = 2
    root = make_comment(article)
    child = make_comment(article, parent=root)
    assert (
        client.post(
            post_url(article), comment_form_data(article, reply_to=root.pk, body="ok")
        ).status_code
        == 302
    )
    response = client.post(post_url(article), comment_form_data(article, reply_to=child.pk))
    assert response.status_code == 400
    assert "nested as deeply as it can go" in form_errors(response)


# Flood and duplicates


def test_more_than_the_flood_limit_per_minute_from_one_ip_gets_429(
    client, article, comment_form_data
):
    for n in range(3):
        response = client.post(
            post_url(article), comment_form_data(article, body=f"n{n}", email=f"r{n}@example.com")
        )
        assert response.status_code == 302
    response = client.post(
        post_url(article), comment_form_data(article, body="fourth", email="r4@example.com")
    )
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assertContains(response, "Please wait a minute", status_code=429)
    assert Comment.objects.count() == 3


def test_more_than_the_flood_limit_from_one_email_gets_429_whatever_the_ip(
    client, article, comment_form_data
):
    for n in range(3):
        client.post(
            post_url(article),
            comment_form_data(article, body=f"n{n}", email="Same@Example.com"),
            REMOTE_ADDR=f"198.51.100.{n + 1}",
        )
    response = client.post(
        post_url(article),
        comment_form_data(article, body="n4", email="same@example.com"),
        REMOTE_ADDR="198.51.100.99",
    )
    assert response.status_code == 429


def test_the_same_comment_twice_is_refused_as_a_duplicate(client, article, comment_form_data):
    data = comment_form_data(article, body="Exactly this.")
    assert client.post(post_url(article), data).status_code == 302
    response = client.post(post_url(article), {**data, "email": "ADA@example.com"})
    assert response.status_code == 400
    assert "already posted this comment" in field_error(response, "body")
    assert Comment.objects.count() == 1


def test_the_same_text_on_another_article_is_not_a_duplicate(
    client, make_article, comment_form_data
):
    first, second = make_article(), make_article()
    client.post(post_url(first), comment_form_data(first, body="Same words."))
    assert (
        client.post(post_url(second), comment_form_data(second, body="Same words.")).status_code
        == 302
    )


# Client address


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "1.1.1.1", "10.0.0.1"),  # no trusted proxy: the header is the client's claim
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),
        (2, "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, "203.0.113.5", "10.0.0.1"),  # too few entries: the socket address
        (1, "unknown", None),  # garbage is stored as no address, not a crash
    ],
)
def test_the_stored_ip_follows_trusted_proxies(
    client, article, comment_form_data, settings, proxies, forwarded, expected
):
    settings.TRUSTED_PROXIES = proxies
    response = client.post(
        post_url(article),
        comment_form_data(article),
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR=forwarded,
    )
    assert response.status_code == 302
    assert Comment.objects.get().ip_address == expected


def test_an_oversized_request_is_a_413_not_a_500(client, article, comment_form_data):
    data = comment_form_data(article, body="x" * (3 * 1024 * 1024))
    response = client.post(post_url(article), data)
    assert (
        response.status_code == 413
    )  # handler400 names RequestDataTooBig (tests/test_hostile_input.py)
    assert not Comment.objects.exists()


def test_a_comment_at_exactly_the_limits_is_accepted(client, article, comment_form_data):
    data = comment_form_data(
        article, body="b" * 5000, name="n" * 100, email=("e" * 64) + "@" + ("d" * 60) + ".example"
    )
    assert client.post(post_url(article), data).status_code == 302
    assert len(Comment.objects.get().body) == 5000


def test_the_length_limit_comes_from_settings(client, article, comment_form_data, settings):
    settings.COMMENTS_MAX_LENGTH = 10
    response = client.post(post_url(article), comment_form_data(article, body="eleven chars"))
    assert response.status_code == 400
    assert "under 10 characters" in field_error(response, "body")
    assertContains(client.get(article.get_absolute_url()), 'maxlength="10"')


# Duplicates: only the same visitor is told


def test_a_duplicate_from_another_visitor_gets_the_answer_of_an_accepted_comment(
    article, comment_form_data
):
    data = comment_form_data(
        article, body="Exactly what someone else wrote.", email="victim@example.com"
    )
    answers = []
    for visitor in (Client(), Client()):
        response = visitor.post(post_url(article), data)
        page = visitor.get(response["Location"]).content.decode()
        answers.append(
            (
                response.status_code,
                response["Location"],
                [str(m) for m in get_messages(response.wsgi_request)],
                "Your comment is awaiting moderation." in page,
                "Exactly what someone else wrote." in page,
            )
        )
    assert answers[0] == answers[1]
    first, second = Comment.objects.order_by("pk")
    assert first.status == "pending"
    assert second.status == "spam" and f"comment #{first.pk}" in second.hold_reason


# Errors where the reader is


def navigate_post(client, article, data):
    """A browser's form submission, as Fetch Metadata describes it."""
    return client.post(
        post_url(article), data, HTTP_SEC_FETCH_MODE="navigate", HTTP_SEC_FETCH_SITE="same-origin"
    )


def test_a_browser_lands_back_at_the_form_on_the_articles_own_url(
    client, article, comment_form_data
):
    data = comment_form_data(article, email="not-an-email", body="What I typed, kept.")
    response = navigate_post(client, article, data)
    assert response.status_code == 303
    assert response["Location"] == article.get_absolute_url() + "#comment-form"
    page = client.get(article.get_absolute_url())
    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(r"<title>Error: Published article", html)
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', html, re.S)
    assert 'tabindex="-1"' in html[summary.start() : summary.start() + 200]
    assert '<a href="#id_email">Enter a valid email address' in summary.group(1)
    assert html.index("error-summary") < html.index('name="body"')  # at the top of the form
    assert "What I typed, kept." in html and 'value="not-an-email"' in html
    assert "/static/comments/error-summary." in html
    # The reader's own page: never shared, never cached.
    assert "private" in page["Cache-Control"] and "Cookie" in page["Vary"]
    assert "What I typed, kept." not in Client().get(article.get_absolute_url()).content.decode()
    # Shown once: the next visit is the plain article again.
    assert "error-summary" not in client.get(article.get_absolute_url()).content.decode()


def test_a_client_without_fetch_metadata_gets_the_page_at_once_as_a_400(
    client, article, comment_form_data
):
    response = client.post(post_url(article), comment_form_data(article, name=""))
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r"<title>Error: ", html)
    assert '<a href="#id_name">Please enter your name' in html
    assert "sessionid" not in response.cookies


def test_a_duplicate_from_the_same_browser_is_named_in_the_summary(
    client, article, comment_form_data
):
    data = comment_form_data(article, body="Twice.")
    navigate_post(client, article, data)
    navigate_post(client, article, data)
    html = client.get(article.get_absolute_url()).content.decode()
    assert '<a href="#id_body">You have already posted this comment on this article.</a>' in html


def test_a_pending_reply_shows_under_its_parent(client, article, make_comment, comment_form_data):
    parent = make_comment(article, name="Grace", body="The question.")
    make_comment(article, body="A later comment.")
    client.post(
        post_url(article), comment_form_data(article, reply_to=parent.pk, body="My answer.")
    )
    html = client.get(article.get_absolute_url()).content.decode()
    mine = Comment.objects.get(body="My answer.")
    thread = html[html.index(f'id="comment-{parent.pk}"') : html.index("A later comment.")]
    assert f'<li class="comment comment-pending" id="comment-{mine.pk}">' in thread
    assert '<ol class="comment-replies">' in thread
    assert "Your comment is awaiting moderation." in thread
    assertNotContains(Client().get(article.get_absolute_url()), "My answer.")


def test_no_comments_yet_is_not_shown_above_the_readers_own_comment(
    client, article, comment_form_data
):
    assertContains(client.get(article.get_absolute_url()), "No comments yet.")
    client.post(post_url(article), comment_form_data(article, body="The very first."))
    own = client.get(article.get_absolute_url())
    assertNotContains(own, "No comments yet.")
    assertContains(own, "The very first.")
    assertContains(Client().get(article.get_absolute_url()), "No comments yet.")
