"""A commenter's email and IP address never reach a public response; the privacy commands."""

import hashlib
import io
import itertools
import json
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from comments.privacy import ANONYMOUS, REMOVED_BODY

EMAIL = "Secret.Commenter@Example.com"
IP = "198.51.100.77"
IPV6 = "2001:db8::4242"
USER_AGENT = "SecretAgent/9.9"

# Areas of the URLconf that are not public: the admin and its tools need staff.
NOT_PUBLIC_PREFIXES = ("admin/", "admin-tools/")


def secret_forms():
    """The commenter's details in every form that could leak them."""
    email = EMAIL.lower()
    forms = {
        EMAIL,
        email,
        quote(email),
        email.replace("@", "&#64;"),
        email.replace("@", "&#x40;"),
        hashlib.md5(email.encode()).hexdigest(),  # what Gravatar would publish
        hashlib.sha256(email.encode()).hexdigest(),
        IP,
        IPV6,
        USER_AGENT,
    }
    return forms


def public_routes(resolver=None, prefix=""):
    """Every route outside the admin, as a template like 'articles/<slug:slug>/'."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern).lstrip("^").rstrip("$")
        if route.startswith(NOT_PUBLIC_PREFIXES):
            continue
        if isinstance(entry, URLResolver):
            yield from public_routes(entry, route)
        elif isinstance(entry, URLPattern):
            yield route


def candidate_values(article):
    """Values to put into URL parameters: every slug the project has, the article's date, its id."""
    slugs = set()
    for model in apps.get_models():
        if any(field.name == "slug" for field in model._meta.get_fields()):
            slugs.update(model._default_manager.values_list("slug", flat=True)[:20])
    return {
        "slug": sorted(slugs),
        "year": [article.published_at.year],
        "month": [article.published_at.month],
        "day": [article.published_at.day],
        "int": [article.pk],
        "str": sorted(slugs)[:3] or ["x"],
        "path": sorted(slugs)[:3] or ["x"],
    }


def expand(route, values):
    """All concrete paths for a route template, using `values` by parameter name or converter."""
    params = re.findall(r"<(?:(\w+):)?(\w+)>", route)
    options = []
    for converter, name in params:
        options.append(values.get(name) or values.get(converter or "str") or ["x"])
    for combination in itertools.product(*options):
        path = route
        for value in combination:
            path = re.sub(r"<(?:\w+:)?\w+>", str(value), path, count=1)
        if "(" in path or "\\" in path:  # an unnamed regex route: not walkable generically
            continue
        yield "/" + path


@pytest.fixture
def commented_article(article, make_comment):
    """An article with the secret commenter's comments in every state, including a reply."""
    root = make_comment(
        article,
        name="Secretive Sam",
        email=EMAIL,
        ip_address=IP,
        user_agent=USER_AGENT,
        website="https://sam.example",
        body="Sam's approved words.",
    )
    make_comment(article, parent=root, email=EMAIL.lower(), ip_address=IPV6, user_agent=USER_AGENT)
    for status in ("pending", "spam", "rejected"):
        make_comment(article, email=EMAIL, ip_address=IP, status=status, user_agent=USER_AGENT)
    return article


def assert_no_secrets(response, where):
    parts = [response.content.decode(errors="replace") if not response.streaming else ""]
    parts += [f"{name}: {value}" for name, value in response.items()]
    parts += [morsel.OutputString() for morsel in response.cookies.values()]
    text = "\n".join(parts)
    lowered = text.lower()
    for secret in secret_forms():
        assert secret.lower() not in lowered, f"{secret!r} leaked by {where}"


def test_no_public_url_shows_a_commenters_email_or_ip(commented_article, settings):
    settings.COMMENTS_PER_PAGE = 1  # so the comment pages are walked too
    reader = Client()
    values = candidate_values(commented_article)
    visited = {}
    for route in public_routes():
        for path in expand(route, values):
            for query in ({}, {"cpage": 2}, {"q": "Secretive"}, {"page": 1}):
                response = reader.get(path, query)
                assert response.status_code < 500, path
                assert_no_secrets(response, f"GET {path} {query}")
                visited[path] = response.status_code
    ok = {path for path, status in visited.items() if status == 200}
    # The walk really reached the public pages, comments included.
    assert {"/", commented_article.get_absolute_url()} <= ok
    assert len(ok) >= 3
    assert (
        "Sam&#x27;s approved words."
        in reader.get(commented_article.get_absolute_url()).content.decode()
    )


def test_error_and_refusal_pages_show_no_commenters_email_or_ip(
    commented_article, comment_form_data, make_article
):
    stranger = Client()
    post_url = reverse("comments:post", args=[commented_article.pk])
    responses = {
        "404": stranger.get("/articles/no-such-article/"),
        "405": stranger.get(post_url),
        "400": stranger.post(post_url, comment_form_data(commented_article, email="bad")),
        "cross-site": stranger.post(
            post_url, comment_form_data(commented_article), HTTP_SEC_FETCH_SITE="cross-site"
        ),
    }
    closed = make_article(allow_comments=False)
    responses["closed"] = stranger.post(
        reverse("comments:post", args=[closed.pk]), comment_form_data(closed)
    )
    for n in range(4):
        flood = stranger.post(
            post_url, comment_form_data(commented_article, body=f"n{n}", email=f"s{n}@example.com")
        )
    responses["429"] = flood
    assert {name: r.status_code for name, r in responses.items()} == {
        "404": 404,
        "405": 405,
        "400": 400,
        "cross-site": 403,
        "closed": 403,
        "429": 429,
    }
    for name, response in responses.items():
        assert_no_secrets(response, name)


def test_the_commenters_own_page_does_not_echo_their_email(client, article, comment_form_data):
    client.post(
        reverse("comments:post", args=[article.pk]),
        comment_form_data(article, email=EMAIL, body="My pending words."),
        REMOTE_ADDR=IP,
        HTTP_USER_AGENT=USER_AGENT,
    )
    page = client.get(article.get_absolute_url())
    assert "My pending words." in page.content.decode()
    assert_no_secrets(page, "the commenter's own article page")


# The commands


@pytest.fixture
def two_commenters(article, make_comment):
    now = timezone.now()
    mine = [
        make_comment(
            article,
            name="Sam",
            email="sam@example.com",
            website="https://sam.example",
            ip_address=IP,
            user_agent=USER_AGENT,
            body="First.",
            created_at=now - timedelta(days=2),
        ),
        make_comment(
            article,
            name="Sam",
            email="SAM@Example.COM",
            ip_address=IP,
            user_agent=USER_AGENT,
            body="Second.",
            status="pending",
            created_at=now,
        ),
    ]
    other = make_comment(
        article,
        name="Other",
        email="other@example.com",
        ip_address="203.0.113.9",
        user_agent="Other/1",
        body="Not Sam's.",
    )
    return mine, other


def run(command, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_export_commenter_prints_their_comments_as_json(two_commenters):
    mine, other = two_commenters
    out, err = run("export_commenter", "Sam@example.com")
    exported = json.loads(out)["comments"]
    assert [c["id"] for c in exported] == [c.pk for c in mine]
    assert exported[0]["body"] == "First." and exported[0]["ip_address"] == IP
    assert exported[0]["article"]["url"] == mine[0].article.get_absolute_url()
    assert {c["status"] for c in exported} == {"approved", "pending"}
    assert "Exported 2 comment(s)" in err


def test_export_of_an_unknown_commenter_is_an_empty_list(db):
    out, err = run("export_commenter", "nobody@example.com")
    assert json.loads(out) == {"comments": [], "email_subscription": None}
    assert "Exported 0 comment(s)" in err


@pytest.mark.parametrize("remove_bodies", [False, True])
def test_erase_commenter_removes_their_personal_data(two_commenters, remove_bodies):
    mine, other = two_commenters
    out, _ = run(
        "erase_commenter", "sam@EXAMPLE.com", *(["--remove-bodies"] if remove_bodies else [])
    )
    assert "Erased the personal data of 2 comment(s)" in out
    for comment, body in zip(mine, ["First.", "Second."], strict=True):
        comment.refresh_from_db()
        assert (comment.name, comment.email, comment.website) == (ANONYMOUS, "", "")
        assert (comment.ip_address, comment.user_agent) == (None, "")
        assert comment.body == (REMOVED_BODY if remove_bodies else body)
    other.refresh_from_db()
    assert (other.name, other.email, other.ip_address) == (
        "Other",
        "other@example.com",
        "203.0.113.9",
    )


def test_purge_comment_ips_clears_old_addresses_only(two_commenters):
    (old, new), other = two_commenters
    out, _ = run("purge_comment_ips", "--days", "1")
    assert "of 1 comment(s) older than 1 days" in out
    old.refresh_from_db(), new.refresh_from_db(), other.refresh_from_db()
    assert (old.ip_address, old.user_agent) == (None, "")
    assert (new.ip_address, new.user_agent) == (IP, USER_AGENT)
    assert other.ip_address == "203.0.113.9"
    # Running it again finds nothing left to clear.
    assert "of 0 comment(s)" in run("purge_comment_ips", "--days", "1")[0]


def test_purge_comment_ips_needs_a_sensible_number_of_days(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        run("purge_comment_ips", "--days", "-1")
    with pytest.raises(CommandError):
        run("purge_comment_ips")


# At scale (issue 15): one query, one transaction, through an index


@pytest.mark.parametrize("remove_bodies", [False, True])
def test_erasing_rewrites_the_html_readers_see_exactly_as_a_save_would(
    article, make_comment, remove_bodies
):
    from comments.privacy import erase_commenter
    from comments.text import comment_html

    root = make_comment(article, name="Sam <b>", email="Sam@Example.com", website="https://s.example",
                        body="Line one\nwww.example.org & <i>more</i>")  # fmt: skip
    reply = make_comment(article, parent=root, name="Sam", email="sam@example.com", body="Again.")
    assert erase_commenter("SAM@example.COM", remove_bodies=remove_bodies) == 2
    for comment in (root, reply):
        comment.refresh_from_db()
        assert comment.html == comment_html(comment)
        assert "Sam" not in comment.html and "s.example" not in comment.html
        assert ANONYMOUS in comment.html


@pytest.mark.parametrize("matches", [1, 40])
def test_erase_and_purge_take_constant_queries_in_one_transaction_however_many_match(
    article, make_comment, matches, django_assert_num_queries
):
    from comments.models import Comment, after_bulk_create
    from comments.privacy import erase_commenter, purge_ips

    after_bulk_create(
        Comment.objects.bulk_create(
            Comment(article=article, name="Sam", email="sam@example.com", body=f"{n}",
                    ip_address=IP, user_agent=USER_AGENT, status="approved")
            for n in range(matches)
        )
    )  # fmt: skip
    # Inside the test's transaction, atomic() is a savepoint and its release: the
    # comments' UPDATE, and the DELETE of the email subscription.
    with django_assert_num_queries(4):
        assert erase_commenter("SAM@example.com") == matches
    make_comment(article, ip_address=IP, created_at=timezone.now() - timedelta(days=3))
    with django_assert_num_queries(3):
        assert purge_ips(1) == 1
    with django_assert_num_queries(3):
        assert purge_ips(1) == 0


def _plan(queryset):
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # a test-sized table
            cursor.execute("EXPLAIN " + sql, params)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(row[-1] for row in cursor.fetchall())


def test_the_email_match_and_the_old_addresses_use_their_indexes(two_commenters):
    from comments.models import HOLDS_CONTACT_TRACES, Comment
    from comments.privacy import comments_by

    assert "comment_email_lower_idx" in _plan(comments_by("Sam@example.com"))
    old = Comment.objects.filter(HOLDS_CONTACT_TRACES, created_at__lt=timezone.now())
    assert "comment_traces_idx" in _plan(old)
