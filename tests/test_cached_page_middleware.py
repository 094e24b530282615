"""Cached pages answered before the view: the same page, the same headers, and only when the view would."""

import pytest
from django.test import Client

from articles.views import ArticleDetailView, ArticleListView

pytestmark = pytest.mark.django_db

SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
)


@pytest.fixture
def view_calls(monkeypatch):
    """How many requests reached the article and list views."""
    calls = []
    for view in (ArticleDetailView, ArticleListView):
        original = view.get

        def counted(self, request, *args, _original=original, **kwargs):
            calls.append(request.get_full_path())
            return _original(self, request, *args, **kwargs)

        monkeypatch.setattr(view, "get", counted)
    return calls


@pytest.mark.parametrize("path", ["article", "list"])
def test_after_the_first_reader_the_page_is_answered_without_the_view(article, view_calls, path):
    url = article.get_absolute_url() if path == "article" else "/"
    first = Client().get(url, secure=True)
    second = Client().get(url, secure=True)

    assert view_calls == [url]
    assert second.status_code == 200
    assert article.title in second.content.decode()
    # Everything the outer middleware adds is there, as on the view's response.
    assert set(second.headers) == set(first.headers)
    for header in (*SECURITY_HEADERS, "Strict-Transport-Security"):
        assert second[header] == first[header]
    assert second["X-Frame-Options"] == "DENY"


def test_the_early_page_sets_the_new_visitors_csrf_cookie(article, view_calls):
    Client().get(article.get_absolute_url())
    reader = Client(enforce_csrf_checks=True)
    reader.get(article.get_absolute_url())
    assert len(view_calls) == 1
    assert "csrftoken" in reader.cookies


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"HTTP_COOKIE": "sessionid=abc"},
        {"HTTP_COOKIE": "messages=abc"},
        {"data": {"replyto": "1"}},
        {"data": {"cpage": "x"}},
    ],
    ids=["session", "message-waiting", "reply-link", "bad-comment-page"],
)
def test_personal_or_odd_requests_still_reach_the_view(article, view_calls, request_kwargs):
    Client().get(article.get_absolute_url())
    Client().get(article.get_absolute_url(), **request_kwargs)
    assert len(view_calls) == 2


def test_staff_reach_the_view(article, editor_client, view_calls):
    Client().get(article.get_absolute_url())
    response = editor_client.get(article.get_absolute_url())
    assert len(view_calls) == 2
    assert "X-Page-Cache" not in response


def test_a_post_is_never_answered_from_the_cache(article):
    Client().get(article.get_absolute_url())
    assert Client().post(article.get_absolute_url(), {}).status_code == 405


def test_a_page_that_stops_being_public_or_moves_goes_back_to_the_view(article, make_article):
    url = article.get_absolute_url()
    Client().get(url)
    article.slug = "a-new-address"
    article.save()
    moved = Client().get(url)
    assert moved.status_code == 301 and moved["Location"] == "/articles/a-new-address/"

    other = make_article()
    Client().get(other.get_absolute_url())
    other.unpublish()
    assert Client().get(other.get_absolute_url()).status_code == 404


def test_a_forged_host_is_refused_before_any_cached_page(article):
    Client().get(article.get_absolute_url())
    response = Client().get(article.get_absolute_url(), HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert article.title not in response.content.decode()
