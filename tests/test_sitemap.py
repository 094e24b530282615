"""/sitemap.xml and /robots.txt: published pages only, absolute URLs on SITE_URL."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from articles.models import Article, Topic

SITE_URL = "https://blog.example.org"
NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(autouse=True)
def _public_site_url(settings):
    settings.SITE_URL = SITE_URL


def sitemap(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{NS}urlset"
    return {
        url.findtext(f"{NS}loc"): url.findtext(f"{NS}lastmod") for url in root.iter(f"{NS}url")
    }


def set_updated_at(article, when):
    # updated_at is auto_now: only an update() query can put it in the past.
    Article.objects.filter(pk=article.pk).update(updated_at=when)
    article.refresh_from_db()


@pytest.mark.django_db
class TestSitemap:
    def test_lists_the_home_page_published_articles_and_their_topics(self, client, make_article):
        topic = Topic.objects.create(name="Dosing", slug="dosing")
        published = make_article(title="Visible")
        published.topics.add(topic)
        draft = make_article(status=Article.Status.DRAFT)
        scheduled = make_article(published_at=timezone.now() + timedelta(days=1))
        # A topic with nothing published has no page worth indexing yet.
        empty = Topic.objects.create(name="Empty", slug="empty")
        draft.topics.add(empty)
        scheduled.topics.add(empty)

        urls = sitemap(client)

        assert set(urls) == {
            f"{SITE_URL}/",
            f"{SITE_URL}{published.get_absolute_url()}",
            f"{SITE_URL}/topics/dosing/",
            f"{SITE_URL}/people/editorial-team/",  # who signed it
        }

    def test_urls_are_absolute_on_site_url_whatever_the_request_host(self, client, article):
        urls = sitemap(client)
        assert urls
        assert all(url.startswith(f"{SITE_URL}/") for url in urls)

    def test_an_article_is_dated_by_its_last_change(self, client, article):
        set_updated_at(article, timezone.now() - timedelta(days=40))
        urls = sitemap(client)
        assert urls[f"{SITE_URL}{article.get_absolute_url()}"] == article.updated_at.date().isoformat()

    def test_a_topic_is_dated_by_its_latest_published_article(self, client, make_article):
        topic = Topic.objects.create(name="Dosing", slug="dosing")
        older, newer = make_article(), make_article()
        draft = make_article(status=Article.Status.DRAFT)
        for article, days_ago in [(older, 30), (newer, 5), (draft, 1)]:
            article.topics.add(topic)
            set_updated_at(article, timezone.now() - timedelta(days=days_ago))

        urls = sitemap(client)

        # The draft changed more recently, but the public cannot see that change.
        assert urls[f"{SITE_URL}/topics/dosing/"] == newer.updated_at.date().isoformat()
        assert urls[f"{SITE_URL}/"] == newer.updated_at.date().isoformat()

    def test_an_empty_site_has_a_valid_sitemap_with_the_home_page(self, client):
        assert sitemap(client) == {f"{SITE_URL}/": None}

    def test_query_count_does_not_grow_with_the_number_of_articles(
        self, client, make_article, django_assert_max_num_queries
    ):
        topic = Topic.objects.create(name="Dosing", slug="dosing")

        def queries_for(total):
            while Article.objects.count() < total:
                make_article().topics.add(topic)
            cache.clear()  # rendered from scratch, not from the micro-cache
            with django_assert_max_num_queries(8) as captured:  # with the people section
                sitemap(client)
            return len(captured)

        assert queries_for(3) == queries_for(60)


def test_robots_txt_points_to_the_sitemap_and_keeps_crawlers_out_of_the_admin(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /admin/" in lines
    assert "Disallow: /admin-tools/" in lines
    assert f"Sitemap: {SITE_URL}/sitemap.xml" in lines
    assert "Disallow: /" not in lines
