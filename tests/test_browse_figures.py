"""Topic counts and archive months from kept figures: right after every change, no cron.

The figures (articles/browse.py) count articles with the published status,
scheduled ones included, and the scheduled ones are subtracted when read:
so whatever happens to an article, and whenever a scheduled one comes due,
what readers see equals a count of Article.objects.published().
"""

import threading
import time
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, connection, transaction
from django.db.models.functions import TruncMonth
from django.utils import timezone

from articles import browse
from articles.models import ArchiveMonth, Article, Topic, TopicArticleCount


def live_topics():
    """What counting every article says, the slow way the figures replace."""
    counts = {}
    for topic_id in Article.objects.published().values_list("topics", flat=True):
        if topic_id is not None:
            counts[topic_id] = counts.get(topic_id, 0) + 1
    return {Topic.objects.get(pk=pk).name: n for pk, n in counts.items()}


def live_months():
    rows = (
        Article.objects.published()
        .annotate(month=TruncMonth("published_at"))
        .values_list("month", flat=True)
    )
    counts = {}
    for month in rows:
        counts[month.date()] = counts.get(month.date(), 0) + 1
    return counts


def shown_topics():
    return {topic.name: topic.published_count for topic in browse.topics()}


def shown_months():
    return dict(browse.archive_months())


def assert_figures_match():
    assert shown_topics() == live_topics()
    assert shown_months() == live_months()


@pytest.fixture
def topics(db):
    return [Topic.objects.create(name=name, slug=name.lower()) for name in ("Dosing", "Diet")]


@pytest.mark.django_db
class TestKeptFigures:
    def test_publishing_unpublishing_and_moving_an_article(self, make_article, topics):
        dosing, diet = topics
        article = make_article(published_at=timezone.now() - timedelta(days=40))
        article.topics.add(dosing, diet)
        assert_figures_match()
        assert shown_topics() == {"Dosing": 1, "Diet": 1}

        article.unpublish()
        assert_figures_match()
        assert shown_topics() == {} and shown_months() == {}

        article.publish()  # keeps its earlier date
        assert_figures_match()

        article.published_at = timezone.now() - timedelta(days=400)
        article.save()
        assert_figures_match()
        assert len(shown_months()) == 1

    def test_drafts_count_nowhere(self, make_article, topics):
        draft = make_article(status=Article.Status.DRAFT)
        draft.topics.add(*topics)
        assert_figures_match()
        assert shown_topics() == {}

    def test_topics_added_removed_and_cleared_from_either_side(self, make_article, topics):
        dosing, diet = topics
        first, second = make_article(), make_article()
        first.topics.add(dosing)
        dosing.articles.add(second)
        diet.articles.add(first, second)
        assert shown_topics() == {"Dosing": 2, "Diet": 2}
        first.topics.remove(diet)
        assert shown_topics() == {"Dosing": 2, "Diet": 1}
        first.topics.set([diet])
        assert shown_topics() == {"Dosing": 1, "Diet": 2}
        diet.articles.clear()
        second.topics.clear()
        assert_figures_match()
        assert shown_topics() == {}

    def test_deleting_an_article_or_a_topic(self, make_article, topics):
        dosing, diet = topics
        article = make_article()
        article.topics.add(dosing, diet)
        keep = make_article()
        keep.topics.add(dosing)
        article.delete()
        assert_figures_match()
        dosing.delete()
        assert_figures_match()
        assert not TopicArticleCount.objects.filter(topic_id=dosing.pk).exists()

    def test_a_scheduled_article_shows_only_when_it_comes_due_with_nothing_run(
        self, make_article, topics
    ):
        soon = timezone.now() + timedelta(hours=1)
        scheduled = make_article(published_at=soon)
        scheduled.topics.add(topics[0])
        make_article().topics.add(topics[0])
        assert shown_topics() == {"Dosing": 1}
        assert_figures_match()
        later = soon + timedelta(minutes=1)
        with mock.patch("django.utils.timezone.now", return_value=later):
            assert shown_topics() == {"Dosing": 2}
            assert_figures_match()

    def test_the_list_page_and_topics_page_show_the_figures(self, client, make_article, topics):
        make_article().topics.add(topics[0])
        make_article(published_at=timezone.now() + timedelta(days=1)).topics.add(topics[0])
        assertion = '<a href="/topics/dosing/">Dosing</a> <span class="count">(1)</span>'
        assert assertion in client.get("/").content.decode()
        assert "1 article<" in client.get("/topics/").content.decode()

    def test_a_topic_page_is_paginated_by_its_kept_count(self, client, make_article, topics):
        for _ in range(12):
            make_article().topics.add(topics[0])
        make_article(published_at=timezone.now() + timedelta(days=1)).topics.add(topics[0])
        make_article(status=Article.Status.DRAFT).topics.add(topics[0])
        first = client.get("/topics/dosing/")
        assert first.context["paginator"].count == 12
        assert len(client.get("/topics/dosing/", {"page": 2}).context["articles"]) == 2
        assert client.get("/topics/dosing/", {"page": 3}).status_code == 404

    def test_refresh_all_after_writes_that_send_no_signals(self, make_article, topics):
        article = make_article()
        article.topics.add(topics[0])
        Article.objects.filter(pk=article.pk).update(status=Article.Status.DRAFT)
        assert shown_topics() == {"Dosing": 1}  # update() sent no signal: stale until…
        browse.refresh_all()
        assert_figures_match()
        assert ArchiveMonth.objects.filter(published__gt=0).count() == 0

    def test_reading_the_figures_takes_three_small_queries(
        self, make_article, topics, django_assert_num_queries
    ):
        for n in range(30):
            make_article().topics.add(topics[n % 2])
        with django_assert_num_queries(3):
            figures = browse.figures()
        assert sum(topic.published_count for topic in figures.topics) == 30


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="SQLite runs one writer at a time; the race needs two (PostgreSQL)",
)
@pytest.mark.django_db(transaction=True)
def test_two_editors_publishing_at_once_are_both_counted(make_article, topics):
    """Both transactions change the same month and topic; neither count is lost."""
    march = datetime(2024, 3, 10, 12, tzinfo=dt_timezone.utc)
    drafts = [
        make_article(status=Article.Status.DRAFT, published_at=march + timedelta(days=n))
        for n in range(2)
    ]
    for draft in drafts:
        draft.topics.add(topics[0])
    make_article(published_at=march).topics.add(topics[0])  # the figures' rows exist
    barrier = threading.Barrier(2)

    def publish(article):
        try:
            with transaction.atomic():
                article = Article.objects.get(pk=article.pk)
                article.status = Article.Status.PUBLISHED
                barrier.wait()
                article.save()
                time.sleep(0.3)  # the other editor's save runs meanwhile
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=publish, args=(draft,)) for draft in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    cache.clear()
    assert shown_topics() == {"Dosing": 3}
    assert_figures_match()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/topics/dosing/"])
def test_deep_pages_show_the_same_articles_as_a_plain_slice(client, make_article, topics, url):
    # 35 articles: pages 3 and 4 (the last, short) are picked from the index's other end.
    for _ in range(35):
        make_article(published_at=timezone.now() - timedelta(hours=1)).topics.add(topics[0])
    make_article(status=Article.Status.DRAFT).topics.add(topics[0])
    expected = list(
        Article.objects.published().filter(topics=topics[0]).values_list("title", flat=True)
    )
    shown = []
    for page in (1, 2, 3, 4):
        cache.clear()
        shown += [a.title for a in client.get(url, {"page": page}).context["articles"]]
    assert shown == expected  # same order, ties on the date broken by id, nothing twice
