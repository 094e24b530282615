"""Public pages are one copy for every visitor without a session, and say so to any cache."""

import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone
from django.utils.cache import get_max_age
from pytest_django.asserts import assertContains, assertNotContains

from articles.models import Article, RecommendedArticle, Topic
from comments.models import Comment
from comments.moderation import approve_comment
from site_project.shared_pages import (
    FetchSharedPageMiddleware,
    UpdateSharedPageMiddleware,
    shared_page,
)

SITE = "https://blog.example.org"


@pytest.fixture
def site(settings, make_article, make_comment):
    """A published article with comments on two comment pages, a topic and a recommendation."""
    settings.SITE_URL = SITE
    settings.COMMENTS_PER_PAGE = 2
    topic = Topic.objects.create(name="Dosing", slug="dosing")
    article = make_article(title="Shared article", slug="shared", body="## Zebra\n\nText.")
    article.topics.add(topic)
    other = make_article(title="Recommended one")
    RecommendedArticle.objects.create(article=article, recommended=other, position=1)
    for n in range(5):
        make_comment(article, body=f"Approved comment {n}.")
    return article


def public_urls(article):
    year, month = article.published_at.year, article.published_at.month
    return [
        "/",
        article.get_absolute_url(),
        article.get_absolute_url() + "?cpage=2",
        article.get_absolute_url() + "?replyto=" + str(Comment.objects.first().pk),
        "/topics/",
        "/topics/dosing/",
        f"/archive/{year}/",
        f"/archive/{year}/{month:02d}/",
        "/search/?q=zebra",
        "/people/editorial-team/",
        "/feed/",
        "/feed/atom/",
        "/topics/dosing/feed/",
        "/sitemap.xml",
        "/sitemap-articles.xml",
        "/robots.txt",
    ]


def test_every_public_page_is_the_same_bytes_for_every_visitor_and_says_so(site):
    for url in public_urls(site):
        first = Client().get(url)
        cache.clear()  # the second visitor's page is rendered afresh, not copied
        second = Client().get(url, HTTP_USER_AGENT="Another browser", REMOTE_ADDR="192.0.2.9")
        assert first.status_code == second.status_code == 200, url
        assert first.content == second.content, url
        for response in (first, second):
            assert not response.cookies, url
            assert "Cookie" not in response.get("Vary", ""), url
            cache_control = response["Cache-Control"]
            assert "public" in cache_control and "s-maxage=1" in cache_control, url
            assert "private" not in cache_control and "no-store" not in cache_control, url
            assert response["ETag"], url


def test_a_repeat_visit_gets_a_304(site):
    reader = Client()
    url = site.get_absolute_url()
    etag = reader.get(url)["ETag"]
    again = reader.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert "public" in again["Cache-Control"]
    cache.clear()
    assert reader.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304  # rendered afresh too


def test_a_page_is_kept_for_its_shared_lifetime_then_rendered_again(site):
    url = site.get_absolute_url()
    assertContains(Client().get(url), "Shared article")
    Article.objects.filter(pk=site.pk).update(title="Renamed article")
    # Within the lifetime (one second) readers share the copy; after it, the change shows.
    assertContains(Client().get(url), "Shared article")
    time.sleep(1.1)
    assertContains(Client().get(url), "Renamed article")


def test_changes_nothing_tracks_show_after_the_lifetime(site, moderator):
    """Recommendations, topics, references and moderation: no version to bump, only a short life."""
    url = site.get_absolute_url()
    Client().get(url)
    pending = Comment.objects.create(
        article=site, name="Late", email="late@example.com", body="A late comment."
    )
    approve_comment(pending, moderator)
    Topic.objects.filter(slug="dosing").update(name="Dosage")
    RecommendedArticle.objects.all().delete()
    time.sleep(1.1)
    page = Client().get(url)
    assertContains(page, "6 comments</h2>")
    assertContains(Client().get(url + "?cpage=3"), "A late comment.")
    assertContains(page, "Dosage")
    assertNotContains(page, "Recommended one")


def test_a_commenter_sees_their_pending_comment_and_message_and_nobody_else_does(
    site, comment_form_data
):
    url = site.get_absolute_url()
    stranger = Client()
    stranger.get(url)  # the shared copy exists before the comment is sent
    commenter = Client()
    commenter.get(url)
    response = commenter.post(
        f"/comments/post/{site.pk}/", comment_form_data(site, body="My own words, pending.")
    )
    assert response.status_code == 302
    mine = commenter.get(url)
    assertContains(mine, "My own words, pending.")
    assertContains(mine, "Your comment is awaiting moderation.")
    assert "private" in mine["Cache-Control"] and "public" not in mine["Cache-Control"]
    assert "Cookie" in mine["Vary"]
    # The message was shown once; the pending comment stays visible to its author.
    assertNotContains(commenter.get(url), "Your comment is awaiting moderation.</p>\n  </div>")
    assertContains(commenter.get(url), "My own words, pending.")
    for other in (stranger, Client()):
        page = other.get(url)
        assertNotContains(page, "My own words, pending.")
        assertNotContains(page, "awaiting moderation")


def test_staff_get_the_live_page_marked_private(site, editor_client):
    url = site.get_absolute_url()
    Client().get(url)  # a shared copy is kept
    Article.objects.filter(pk=site.pk).update(title="Edited a moment ago")
    page = editor_client.get(url)
    assertContains(page, "Edited a moment ago")
    assert "private" in page["Cache-Control"]


def test_a_staff_draft_preview_is_never_cached(client, draft, editor_client):
    page = editor_client.get(draft.get_absolute_url())
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"] and "public" not in page["Cache-Control"]
    assert Client().get(draft.get_absolute_url()).status_code == 404


def test_health_checks_and_post_responses_are_never_shared(site, comment_form_data):
    for response in (
        Client().get("/healthz"),
        Client().get("/healthz/live"),
        Client().post(f"/comments/post/{site.pk}/", comment_form_data(site, email="bad")),
    ):
        assert "public" not in response.get("Cache-Control", "")


def test_a_scheduled_article_appears_once_its_time_has_come(make_article):
    soon = timezone.now() + timedelta(seconds=1)
    make_article(title="Scheduled piece", published_at=soon)
    assertNotContains(Client().get("/"), "Scheduled piece")
    time.sleep(1.2)
    assertContains(Client().get("/"), "Scheduled piece")


def test_a_public_page_that_sets_a_cookie_is_never_shared():
    """Should a template ever call {% csrf_token %}, one visitor's cookie must not reach others."""

    @shared_page
    def leaky(request):
        response = HttpResponse("page")
        response.set_cookie("csrftoken", "one-visitors-secret")
        return response

    request = RequestFactory().get("/leaky/")
    middleware = UpdateSharedPageMiddleware(leaky)
    request._cache_update_cache = True
    response = middleware.process_response(request, leaky(request))
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    # Nothing was kept: the next visitor's request is not answered from the cache.
    assert FetchSharedPageMiddleware(leaky).process_request(RequestFactory().get("/leaky/")) is None


@pytest.mark.parametrize("url", ["/?page=%C2%B2", "/?page=%D9%A3", "/?page=1_0", "/?page=+1", "/?page=0",
                                 "/?page=2", "/?page=99999999999", "/?page=last", "/topics/dosing/?page=x",
                                 "/search/?q=zebra&page=%C2%B2"])  # fmt: skip
def test_junk_page_numbers_are_404_never_500(site, url):
    response = Client().get(url)
    assert response.status_code == 404
    assertContains(response, "Page not found", status_code=404)


def test_the_list_page_numbers_that_exist_work(make_article):
    for _ in range(11):
        make_article()
    assert Client().get("/?page=2").status_code == 200
    assert Client().get("/?page=3").status_code == 404


def test_admin_pages_are_never_kept(admin_client_with_session):
    first = admin_client_with_session.get("/admin/")
    assert "private" in first["Cache-Control"] or "no-store" in first["Cache-Control"]


@pytest.fixture
def admin_client_with_session(client, db):
    client.force_login(User.objects.create_superuser("boss", "boss@staff.example", None))
    return client


def test_the_shared_lifetime_comes_from_one_setting(site, settings):
    settings.CACHE_MIDDLEWARE_SECONDS = 5
    response = Client().get("/")
    assert get_max_age(response) == 5 and "s-maxage=5" in response["Cache-Control"]
