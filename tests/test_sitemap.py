"""/sitemap.xml (an index of sitemap pages) and /robots.txt: published pages only, on SITE_URL."""

import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.utils import timezone

from articles import sitemaps
from articles.models import Article, Topic
from articles.people import Person

SITE_URL = "https://blog.example.org"
NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(autouse=True)
def _public_site_url(settings):
    settings.SITE_URL = SITE_URL


def fetch(client, url, root_tag):
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{NS}{root_tag}"
    return root


def section_pages(client):
    """The absolute URLs of the sitemap pages that /sitemap.xml lists, in its order."""
    index = fetch(client, "/sitemap.xml", "sitemapindex")
    return [loc.text for loc in index.iter(f"{NS}loc")]


def sitemap(client):
    """{URL: lastmod} of every page listed by every sitemap page of the index."""
    urls = {}
    for page in section_pages(client):
        assert page.startswith(f"{SITE_URL}/sitemap-")
        parts = urlsplit(page)
        root = fetch(client, parts.path + (f"?{parts.query}" if parts.query else ""), "urlset")
        for url in root.iter(f"{NS}url"):
            loc = url.findtext(f"{NS}loc")
            assert loc not in urls, f"{loc} listed twice"
            urls[loc] = url.findtext(f"{NS}lastmod")
    return urls


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
        assert (
            urls[f"{SITE_URL}{article.get_absolute_url()}"] == article.updated_at.date().isoformat()
        )

    def test_the_home_page_is_dated_by_the_latest_published_change(self, client, make_article):
        topic = Topic.objects.create(name="Dosing", slug="dosing")
        older, newer = make_article(), make_article()
        draft = make_article(status=Article.Status.DRAFT)
        for article, days_ago in [(older, 30), (newer, 5), (draft, 1)]:
            article.topics.add(topic)
            set_updated_at(article, timezone.now() - timedelta(days=days_ago))

        urls = sitemap(client)

        # The draft changed more recently, but the public cannot see that change.
        assert urls[f"{SITE_URL}/"] == newer.updated_at.date().isoformat()
        # A topic's date would mean reading all its articles: topics have none.
        assert urls[f"{SITE_URL}/topics/dosing/"] is None

    def test_an_empty_site_has_a_valid_sitemap_with_the_home_page_and_the_team(self, client):
        team = Person.objects.editorial_team()
        assert sitemap(client) == {
            f"{SITE_URL}/": None,
            f"{SITE_URL}{team.get_absolute_url()}": team.updated_at.date().isoformat(),
        }

    @pytest.mark.parametrize(
        "url",
        [
            "/sitemap.xml",
            "/sitemap-home.xml",
            "/sitemap-articles.xml",
            "/sitemap-topics.xml",
            "/sitemap-pages.xml",
            "/sitemap-people.xml",
        ],
    )
    def test_query_count_does_not_grow_with_the_number_of_articles(
        self, client, make_article, django_assert_max_num_queries, url
    ):
        topic = Topic.objects.create(name="Dosing", slug="dosing")

        def queries_for(total):
            while Article.objects.count() < total:
                make_article().topics.add(topic)
            cache.clear()  # rendered from scratch, not from the micro-cache
            with django_assert_max_num_queries(8) as captured:  # the index counts each section
                assert client.get(url).status_code == 200
            return len(captured)

        assert queries_for(3) == queries_for(60)


@pytest.mark.django_db
class TestSitemapIndex:
    @pytest.fixture
    def three_a_page(self, monkeypatch):
        monkeypatch.setattr(sitemaps.SiteUrlSitemap, "limit", 3)

    def test_the_index_lists_every_page_of_every_section_and_no_url_is_dropped(
        self, client, make_article, three_a_page
    ):
        topics = [Topic.objects.create(name=f"Topic {n}", slug=f"topic-{n}") for n in range(4)]
        articles = [make_article() for _ in range(10)]
        for n, article in enumerate(articles):
            article.topics.add(topics[n % 4])
        make_article(status=Article.Status.DRAFT)

        pages = section_pages(client)
        urls = sitemap(client)

        assert pages == [
            f"{SITE_URL}/sitemap-home.xml",
            f"{SITE_URL}/sitemap-articles.xml",
            f"{SITE_URL}/sitemap-articles.xml?p=2",
            f"{SITE_URL}/sitemap-articles.xml?p=3",
            f"{SITE_URL}/sitemap-articles.xml?p=4",
            f"{SITE_URL}/sitemap-topics.xml",
            f"{SITE_URL}/sitemap-topics.xml?p=2",
            f"{SITE_URL}/sitemap-pages.xml",
            f"{SITE_URL}/sitemap-people.xml",
        ]
        assert set(urls) == {
            f"{SITE_URL}/",
            *(f"{SITE_URL}{article.get_absolute_url()}" for article in articles),
            *(f"{SITE_URL}{topic.get_absolute_url()}" for topic in topics),
            # The articles' author: the editorial team, with a page of its own.
            *{f"{SITE_URL}{article.author.get_absolute_url()}" for article in articles},
        }
        assert client.get("/sitemap-articles.xml", {"p": 5}).status_code == 404

    def test_article_pages_run_oldest_first_so_a_new_article_only_changes_the_last_page(
        self, client, make_article, three_a_page
    ):
        for _ in range(4):
            make_article()  # each older than the one before
        first_page = client.get("/sitemap-articles.xml").content
        make_article(published_at=timezone.now() - timedelta(minutes=1))
        cache.clear()
        assert client.get("/sitemap-articles.xml").content == first_page

    @pytest.mark.parametrize("page", ["0", "x", "²", " 2", "2.0", "99999999999"])
    def test_a_malformed_or_missing_page_is_a_404(self, client, article, page):
        assert client.get("/sitemap-articles.xml", {"p": page}).status_code == 404

    def test_an_unknown_section_is_a_404(self, client, article):
        assert client.get("/sitemap-nothing.xml").status_code == 404

    @pytest.mark.parametrize("url", ["/sitemap.xml", "/sitemap-articles.xml"])
    def test_index_and_pages_are_shared_pages_with_absolute_urls(self, client, article, url):
        response = client.get(url, HTTP_HOST="testserver")
        assert "public" in response["Cache-Control"]
        assert response["X-Robots-Tag"].startswith("noindex")
        assert "testserver" not in response.content.decode()


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
