"""RSS and Atom feeds: published articles only, absolute links on SITE_URL, valid XML."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains

from articles.models import Article, Topic

SITE_URL = "https://blog.example.org"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(autouse=True)
def _public_site_url(settings):
    # The request comes to "testserver"; every link must still name the public site.
    settings.SITE_URL = SITE_URL


def rss_items(response):
    root = ET.fromstring(response.content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    return [
        {
            "title": item.findtext("title"),
            "link": item.findtext("link"),
            "guid": item.findtext("guid"),
            "description": item.findtext("description"),
            "categories": [category.text for category in item.findall("category")],
        }
        for item in root.iter("item")
    ]


def atom_entries(response):
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return [
        {
            "title": entry.findtext(f"{ATOM}title"),
            "link": entry.find(f"{ATOM}link").get("href"),
            "guid": entry.findtext(f"{ATOM}id"),
            "description": entry.findtext(f"{ATOM}summary"),
            "categories": [category.get("term") for category in entry.findall(f"{ATOM}category")],
        }
        for entry in root.iter(f"{ATOM}entry")
    ]


FEEDS = [
    pytest.param("articles:feed", rss_items, "application/rss+xml", id="rss"),
    pytest.param("articles:atom-feed", atom_entries, "application/atom+xml", id="atom"),
]


@pytest.fixture
def mixed_articles(make_article):
    """One published article, a draft and a scheduled one."""
    return {
        "published": make_article(title="Visible guide", summary="What to expect."),
        "draft": make_article(title="Secret draft", status=Article.Status.DRAFT),
        "scheduled": make_article(
            title="Future article", published_at=timezone.now() + timedelta(days=3)
        ),
    }


@pytest.mark.django_db
class TestSiteFeeds:
    @pytest.mark.parametrize("name, parse, content_type", FEEDS)
    def test_lists_published_articles_only(self, client, mixed_articles, name, parse, content_type):
        response = client.get(reverse(name))

        assert response.status_code == 200
        assert response["Content-Type"].startswith(content_type)
        titles = [item["title"] for item in parse(response)]
        assert titles == ["Visible guide"]
        body = response.content.decode()
        assert "Secret draft" not in body
        assert "Future article" not in body
        assert mixed_articles["draft"].slug not in body
        assert mixed_articles["scheduled"].slug not in body

    @pytest.mark.parametrize("name, parse, content_type", FEEDS)
    def test_links_are_absolute_on_site_url_not_the_request_host(
        self, client, article, name, parse, content_type
    ):
        response = client.get(reverse(name), HTTP_HOST="testserver")

        [item] = parse(response)
        assert item["link"] == f"{SITE_URL}{article.get_absolute_url()}"
        assert item["guid"] == item["link"]
        assert "testserver" not in response.content.decode()

    @pytest.mark.parametrize("name, parse, content_type", FEEDS)
    def test_the_item_description_is_the_summary_as_text(
        self, client, make_article, name, parse, content_type
    ):
        make_article(summary="Doses <b>20 mg</b> & 40 mg compared.")

        [item] = parse(client.get(reverse(name)))

        # Readers treat a description as HTML, so the plain-text summary arrives escaped.
        assert item["description"] == "Doses &lt;b&gt;20 mg&lt;/b&gt; &amp; 40 mg compared."

    @pytest.mark.parametrize("name, parse, content_type", FEEDS)
    def test_items_carry_their_topics_as_categories(
        self, client, article, name, parse, content_type
    ):
        article.topics.add(Topic.objects.create(name="Side effects", slug="side-effects"))

        [item] = parse(client.get(reverse(name)))

        assert item["categories"] == ["Side effects"]

    def test_the_feed_itself_links_to_the_public_site(self, client, article):
        channel = ET.fromstring(client.get(reverse("articles:feed")).content).find("channel")
        assert channel.findtext("link") == f"{SITE_URL}/"
        self_link = channel.find(f"{ATOM}link")
        assert self_link.get("href") == f"{SITE_URL}/feed/"

    def test_newest_first_and_at_most_twenty(self, client, make_article):
        for _ in range(25):
            make_article()
        items = rss_items(client.get(reverse("articles:feed")))
        assert len(items) == 20
        assert items[0]["title"] == "Article 1"  # make_article publishes n days ago

    @pytest.mark.parametrize("name, parse, content_type", FEEDS)
    def test_an_empty_site_has_a_valid_empty_feed(self, client, name, parse, content_type):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert parse(response) == []


@pytest.mark.django_db
class TestTopicFeed:
    def test_lists_the_topics_published_articles_only(self, client, make_article):
        topic = Topic.objects.create(name="Dosing", slug="dosing")
        other = Topic.objects.create(name="Diet", slug="diet")
        make_article(title="On topic").topics.add(topic)
        make_article(title="Other topic").topics.add(other)
        make_article(title="Topic draft", status=Article.Status.DRAFT).topics.add(topic)
        make_article(
            title="Topic scheduled", published_at=timezone.now() + timedelta(hours=1)
        ).topics.add(topic)

        response = client.get(reverse("articles:topic-feed", kwargs={"slug": "dosing"}))

        assert response.status_code == 200
        assert [item["title"] for item in rss_items(response)] == ["On topic"]
        channel = ET.fromstring(response.content).find("channel")
        assert channel.findtext("title").startswith("Dosing")
        assert channel.findtext("link") == f"{SITE_URL}/topics/dosing/"

    def test_an_unknown_topic_is_404(self, client):
        response = client.get(reverse("articles:topic-feed", kwargs={"slug": "nothing-here"}))
        assert response.status_code == 404


@pytest.mark.django_db
class TestFeedLinksInEveryHead:
    @pytest.mark.parametrize(
        "url",
        ["/", "/topics/", "/search/?q=guide", "/archive/{year}/", "{article}"],
    )
    def test_rss_and_atom_are_linked(self, client, article, url):
        url = url.format(year=article.published_at.year, article=article.get_absolute_url())
        response = client.get(url)
        assertContains(
            response,
            f'<link rel="alternate" type="application/rss+xml" title="Clear Skin Notes: all articles (RSS)" href="{reverse("articles:feed")}">',
            html=True,
        )
        assertContains(
            response,
            f'<link rel="alternate" type="application/atom+xml" title="Clear Skin Notes: all articles (Atom)" href="{reverse("articles:atom-feed")}">',
            html=True,
        )

    def test_a_topic_page_also_links_its_own_feed(self, client, article):
        article.topics.add(Topic.objects.create(name="Dosing", slug="dosing"))
        response = client.get("/topics/dosing/")
        assertContains(
            response,
            '<link rel="alternate" type="application/rss+xml" title="Clear Skin Notes: Dosing (RSS)" href="/topics/dosing/feed/">',
            html=True,
        )


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/feed/", "/feed/atom/", "/topics/dosing/feed/"])
def test_feed_queries_do_not_grow_with_the_number_of_articles(
    client, make_article, django_assert_max_num_queries, url
):
    topic = Topic.objects.create(name="Dosing", slug="dosing")

    def queries_for(total):
        while Article.objects.count() < total:
            make_article().topics.add(topic)
        cache.clear()  # rendered from scratch, not from the micro-cache
        with django_assert_max_num_queries(3) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    assert queries_for(3) == queries_for(60)
