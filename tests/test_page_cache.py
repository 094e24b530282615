"""The page cache: what readers see stays right, each visitor keeps their own token, budgets hold."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import page_cache, prerender
from articles.models import Article, RenderedPage
from comments.models import Comment
from comments.moderation import approve_comment, reject_comment
from comments.stats import after_bulk_create

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TIMESTAMP = re.compile(r'name="timestamp" value="([^"]+)"')


def page(client, url, **extra):
    response = client.get(url, **extra)
    return response, response.content.decode()


def from_scratch():
    cache.clear()
    page_cache.forget()


def test_the_second_anonymous_request_is_served_from_the_cache(article):
    first = Client().get(article.get_absolute_url())
    second = Client().get(article.get_absolute_url())
    assert first.status_code == second.status_code == 200
    assert second["X-Page-Cache"] == "hit"
    assert article.title in second.content.decode()


def test_each_visitor_gets_their_own_csrf_token_and_fresh_timestamp(article, comment_form_data):
    Client().get(article.get_absolute_url())  # fills the cache
    one, two = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    _, first = page(one, article.get_absolute_url())
    _, second = page(two, article.get_absolute_url())
    assert TOKEN.search(first).group(1) != TOKEN.search(second).group(1)
    assert one.cookies["csrftoken"].value != two.cookies["csrftoken"].value
    assert TIMESTAMP.search(first)

    # The token from the cached page works for its own visitor, and only for them.
    data = comment_form_data(article, timestamp=None)
    data["timestamp"] = TIMESTAMP.search(first).group(1)
    data["csrfmiddlewaretoken"] = TOKEN.search(first).group(1)
    assert two.post(f"/comments/post/{article.pk}/", data).status_code == 403
    response = one.post(f"/comments/post/{article.pk}/", data)
    assert response.status_code in (302, 400)  # accepted, or refused as too fast: not a CSRF failure
    assert response.status_code != 403


def test_a_moderated_comment_shows_at_once(article, make_comment, moderator):
    url = article.get_absolute_url()
    Client().get(url)
    comment = make_comment(article, body="Waiting for a moderator", status="pending")
    assert "Waiting for a moderator" not in page(Client(), url)[1]

    approve_comment(comment, moderator)
    assert "Waiting for a moderator" in page(Client(), url)[1]

    reject_comment(comment, moderator)
    assert "Waiting for a moderator" not in page(Client(), url)[1]


def test_a_saved_article_shows_at_once(article):
    url = article.get_absolute_url()
    Client().get(url)
    article.title = "A corrected title"
    article.save()
    assert "A corrected title" in page(Client(), url)[1]


def test_a_scheduled_article_appears_on_the_list_when_its_time_comes(make_article):
    make_article(title="Already out")
    later = make_article(title="Coming soon", published_at=timezone.now() + timedelta(hours=1))
    assert "Coming soon" not in page(Client(), "/")[1]
    # Time passes (no job runs): the database row alone decides.
    Article.objects.filter(pk=later.pk).update(published_at=timezone.now() - timedelta(seconds=1))
    assert "Coming soon" in page(Client(), "/")[1]


def test_an_unpublished_article_disappears_at_once(article):
    url = article.get_absolute_url()
    Client().get(url)
    article.unpublish()
    assert Client().get(url).status_code == 404
    assert article.title not in page(Client(), "/")[1]


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"data": {"replyto": "1"}},
        {"data": {"utm_source": "x"}},
        {"HTTP_COOKIE": "sessionid=abc"},
        {"HTTP_COOKIE": "messages=abc"},
    ],
    ids=["reply-link", "other-parameter", "session", "message-waiting"],
)
def test_personal_requests_skip_the_cache(article, request_kwargs):
    Client().get(article.get_absolute_url())
    response = Client().get(article.get_absolute_url(), **request_kwargs)
    assert response.status_code == 200
    assert "X-Page-Cache" not in response


def test_staff_never_get_the_cached_copy(editor_client, article):
    Client().get(article.get_absolute_url())
    assert "X-Page-Cache" not in editor_client.get(article.get_absolute_url())


def test_conditional_get_answers_304_to_the_same_visitor(article):
    client = Client()
    client.get(article.get_absolute_url())
    response = client.get(article.get_absolute_url())
    assert response["Cache-Control"] == "private, no-cache"
    again = client.get(article.get_absolute_url(), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    # Another visitor's copy carries another token: no 304 for them.
    other = Client().get(article.get_absolute_url(), HTTP_IF_NONE_MATCH=response["ETag"])
    assert other.status_code == 200


def test_the_list_page_is_cacheable_by_a_cdn(article):
    Client().get("/")
    response = Client().get("/")
    assert "public" in response["Cache-Control"] and "s-maxage" in response["Cache-Control"]
    assert "csrftoken" not in response.cookies


def test_a_cache_that_is_down_costs_speed_not_pages(article, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on the discard port
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    page_cache._last_failure_log = 0.0
    for _ in range(2):
        response = Client().get(article.get_absolute_url())
        assert response.status_code == 200
        assert article.title in response.content.decode()
    assert "page cache unavailable" in caplog.text


class TestQueryBudgets:
    def add_threads(self, article, count):
        now = timezone.now()
        roots = Comment.objects.bulk_create(
            Comment(article=article, name=f"R{n}", email="r@example.com", body=f"root {n}",
                    status="approved", created_at=now)
            for n in range(count)
        )  # fmt: skip
        replies = Comment.objects.bulk_create(
            Comment(article=article, parent=r, thread=r, depth=1, name="A", email="a@example.com",
                    body="reply", status="approved", created_at=now)
            for r in roots
        )  # fmt: skip
        after_bulk_create([*roots, *replies])

    @pytest.mark.parametrize("threads", [0, 50, 1000])
    def test_the_article_page_stays_within_seven_queries(
        self, article, threads, django_assert_max_num_queries
    ):
        # Seven: the footer's links to the site pages are one query on every page.
        self.add_threads(article, threads)  # 0, 100 or 2,000 comments
        from_scratch()
        with django_assert_max_num_queries(7):
            assert Client().get(article.get_absolute_url()).status_code == 200
        with django_assert_max_num_queries(1):
            assert Client().get(article.get_absolute_url()).status_code == 200
        with django_assert_max_num_queries(7):
            assert Client().get(article.get_absolute_url(), {"cpage": 2}).status_code == 200

    def test_after_moderation_only_the_thread_is_read_again(self, article, moderator):
        self.add_threads(article, 30)
        Client().get(article.get_absolute_url())
        approve_comment(Comment.objects.create(article=article, name="N", email="n@example.com",
                                               body="new"), moderator)  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            response = Client().get(article.get_absolute_url())
        assert "new" in response.content.decode()
        assert len(queries) == 2  # the versions (with the article's few fields), the page of comments

    @pytest.mark.parametrize("articles", [0, 500])
    def test_the_list_page_is_constant(self, make_article, articles, django_assert_max_num_queries):
        Article.objects.bulk_create(
            Article(title=f"T{n}", slug=f"t-{n}", summary="s", body="b", body_html="<p>b</p>",
                    status="published", published_at=timezone.now() - timedelta(days=1))
            for n in range(articles)
        )  # fmt: skip
        from_scratch()
        with django_assert_max_num_queries(6):
            assert Client().get("/").status_code == 200
        with django_assert_max_num_queries(1):
            assert Client().get("/").status_code == 200


def served_from_the_kept_page(url):
    """What a process with an empty cache serves, and how many queries it took."""
    from_scratch()
    with CaptureQueriesContext(connection) as queries:
        response = Client().get(url)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_a_saved_article_is_rendered_ahead_of_its_first_reader(article, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        article.title = "Rendered ahead"
        article.save()
    assert "Rendered ahead" in RenderedPage.objects.get(article=article).parts

    # Another process (an empty cache here) serves the kept copy: no rendering, no comments read.
    html, queries = served_from_the_kept_page(article.get_absolute_url())
    assert "Rendered ahead" in html
    assert queries == 1  # the versions, the kept page with them


def test_an_approved_comment_is_rendered_ahead_of_the_next_reader(
    article, make_comment, moderator, django_capture_on_commit_callbacks
):
    comment = make_comment(article, body="Approved, and on the page at once", status="pending")
    Client().get(article.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        approve_comment(comment, moderator)

    html, queries = served_from_the_kept_page(article.get_absolute_url())
    assert "Approved, and on the page at once" in html
    assert queries == 1
    # Each reader still gets their own token in the kept copy.
    first, second = page(Client(), article.get_absolute_url())[1], page(Client(), article.get_absolute_url())[1]
    assert TOKEN.search(first).group(1) != TOKEN.search(second).group(1)


def test_rendering_ahead_reads_the_versions_just_committed(
    article, settings, django_capture_on_commit_callbacks
):
    # This process read the versions a moment ago; the copy it keeps must still be the new one.
    settings.PAGE_CACHE_RECHECK_SECONDS = 60
    Client().get(article.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        article.title = "Saved by the same process"
        article.save()
    assert "Saved by the same process" in RenderedPage.objects.get(article=article).parts


def test_a_bulk_action_renders_ahead_a_bounded_number_of_articles(
    make_article, make_comment, moderator, django_capture_on_commit_callbacks
):
    articles = [make_article() for _ in range(prerender.PRERENDER_AT_MOST + 3)]
    for article in articles:
        make_comment(article, status="pending")
    with django_capture_on_commit_callbacks(execute=True):
        approve_comment(Comment.objects.all(), moderator)
    assert RenderedPage.objects.count() == prerender.PRERENDER_AT_MOST
    # The others are rendered by their first reader, with the comment on them.
    last = articles[-1]
    assert Comment.objects.get(article=last).body in page(Client(), last.get_absolute_url())[1]


def test_a_failure_to_render_ahead_never_fails_the_moderators_action(
    article, make_comment, moderator, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broken(article_id):
        raise RuntimeError("template missing")

    monkeypatch.setattr(prerender, "prerender", broken)
    comment = make_comment(article, body="Approved despite it", status="pending")
    with django_capture_on_commit_callbacks(execute=True):
        approve_comment(comment, moderator)
    assert "could not prerender" in caplog.text
    assert "Approved despite it" in page(Client(), article.get_absolute_url())[1]


def test_comment_figures_follow_moderation(article, make_comment, moderator):
    comment = make_comment(article, status="pending")
    reply_target = make_comment(article)
    article.refresh_from_db()
    assert (article.comment_count, article.comment_thread_count) == (1, 1)
    approve_comment(comment, moderator)
    make_comment(article, parent=reply_target)
    article.refresh_from_db()
    assert (article.comment_count, article.comment_thread_count) == (3, 2)
    version = article.comments_version
    reject_comment(Comment.objects.filter(pk=comment.pk), moderator)
    article.refresh_from_db()
    assert (article.comment_count, article.comment_thread_count) == (2, 1)
    assert article.comments_version > version


def test_an_editor_saving_an_old_form_does_not_undo_the_comment_figures(article, make_comment):
    stale = Article.objects.get(pk=article.pk)  # loaded before the comment arrives
    make_comment(article)
    stale.title = "Edited"
    stale.save()
    article.refresh_from_db()
    assert article.comment_count == 1 and article.title == "Edited"


def test_each_process_rechecks_the_versions_at_least_once_a_second(
    article, make_comment, moderator, settings, monkeypatch, django_assert_num_queries
):
    from types import SimpleNamespace

    settings.PAGE_CACHE_RECHECK_SECONDS = 1.0
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(page_cache, "time", SimpleNamespace(monotonic=lambda: clock.now))
    url = article.get_absolute_url()
    Client().get(url)
    with django_assert_num_queries(0):  # versions read less than a second ago
        Client().get(url)

    approve_comment(make_comment(article, body="Approved just now", status="pending"), moderator)
    assert "Approved just now" not in page(Client(), url)[1]  # within the second
    clock.now += 1.01
    assert "Approved just now" in page(Client(), url)[1]
