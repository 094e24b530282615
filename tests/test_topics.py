"""Topic pages, the month and year archive, and how readers reach them from the list page."""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from articles.models import Article, Topic
from articles.roles import EDITOR_PERMISSIONS

SITE_URL = "https://blog.example.org"


@pytest.fixture(autouse=True)
def _public_site_url(settings):
    settings.SITE_URL = SITE_URL


@pytest.fixture
def dosing(db):
    return Topic.objects.create(
        name="Dosing", slug="dosing", description="How much, how often and for how long."
    )


def titles(response):
    return [article.title for article in response.context["articles"]]


def at(year, month, day=15):
    return datetime(year, month, day, 12, tzinfo=dt_timezone.utc)


@pytest.mark.django_db
class TestTopicPage:
    def test_lists_the_topics_published_articles_newest_first(self, client, make_article, dosing):
        old = make_article(title="Older dose article")
        new = make_article(title="Newer dose article", published_at=timezone.now())
        elsewhere = make_article(title="Unrelated")
        draft = make_article(title="Dose draft", status=Article.Status.DRAFT)
        scheduled = make_article(
            title="Dose scheduled", published_at=timezone.now() + timedelta(days=1)
        )
        for article in (old, new, draft, scheduled):
            article.topics.add(dosing)
        elsewhere.topics.add(Topic.objects.create(name="Diet", slug="diet"))

        response = client.get(dosing.get_absolute_url())

        assert response.status_code == 200
        assert titles(response) == ["Newer dose article", "Older dose article"]
        for hidden in ("Unrelated", "Dose draft", "Dose scheduled"):
            assertNotContains(response, hidden)
        assertContains(response, "<h1>Dosing</h1>", html=True)
        assertContains(response, "How much, how often and for how long.")

    def test_is_paginated(self, client, make_article, dosing):
        for _ in range(12):
            make_article().topics.add(dosing)

        first = client.get("/topics/dosing/")
        second = client.get("/topics/dosing/?page=2")

        assert len(first.context["articles"]) == 10
        assert len(second.context["articles"]) == 2
        assertContains(first, 'href="?page=2"')
        assertContains(
            second, f'<link rel="canonical" href="{SITE_URL}/topics/dosing/?page=2">', html=True
        )
        assert client.get("/topics/dosing/?page=3").status_code == 404

    def test_has_an_absolute_canonical_url_and_social_tags(self, client, dosing):
        response = client.get("/topics/dosing/")
        assertContains(
            response, f'<link rel="canonical" href="{SITE_URL}/topics/dosing/">', html=True
        )
        assertContains(
            response, f'<meta property="og:url" content="{SITE_URL}/topics/dosing/">', html=True
        )
        assertContains(response, '<meta property="og:title" content="Dosing">', html=True)

    def test_a_topic_without_published_articles_says_so_calmly(self, client, dosing):
        response = client.get("/topics/dosing/")
        assert response.status_code == 200
        assertContains(response, "No articles on this topic have been published yet.")

    def test_an_unknown_topic_is_404(self, client):
        assert client.get("/topics/no-such-topic/").status_code == 404

    def test_the_article_page_links_its_topics(self, client, article, dosing):
        article.topics.add(dosing)
        response = client.get(article.get_absolute_url())
        assertContains(response, '<a href="/topics/dosing/">Dosing</a>', html=True)


@pytest.mark.django_db
class TestTopicIndex:
    def test_lists_topics_with_published_articles_and_their_counts(
        self, client, make_article, dosing
    ):
        diet = Topic.objects.create(name="Diet", slug="diet")
        Topic.objects.create(name="Empty", slug="empty")
        for article in (make_article(), make_article()):
            article.topics.add(dosing)
        make_article(status=Article.Status.DRAFT).topics.add(dosing, diet)

        response = client.get(reverse("articles:topics"))

        assert response.status_code == 200
        assert [(t.name, t.published_count) for t in response.context["topics"]] == [("Dosing", 2)]
        assertContains(response, "2 articles")
        assertNotContains(response, "Empty")
        assertNotContains(response, ">Diet<")


@pytest.mark.django_db
class TestArchive:
    @pytest.fixture
    def dated(self, make_article):
        return {
            "march": make_article(title="March piece", published_at=at(2024, 3, 5)),
            "march-late": make_article(title="Late March piece", published_at=at(2024, 3, 28)),
            "may": make_article(title="May piece", published_at=at(2024, 5, 1)),
            "last-year": make_article(title="Old piece", published_at=at(2023, 11, 2)),
            "draft": make_article(
                title="March draft", status=Article.Status.DRAFT, published_at=at(2024, 3, 9)
            ),
        }

    def test_a_year_lists_its_published_articles_newest_first(self, client, dated):
        response = client.get("/archive/2024/")

        assert response.status_code == 200
        assert titles(response) == ["May piece", "Late March piece", "March piece"]
        assertContains(response, "<h1>Articles from 2024</h1>", html=True)
        assertContains(response, 'href="/archive/2024/03/"')
        assertContains(response, 'href="/archive/2023/"')  # the previous year
        assertNotContains(response, "March draft")

    def test_a_month_lists_only_that_months_articles(self, client, dated):
        response = client.get("/archive/2024/3/")

        assert response.status_code == 200
        assert titles(response) == ["Late March piece", "March piece"]
        assertContains(response, "<h1>Articles from March 2024</h1>", html=True)
        assertContains(response, 'href="/archive/2024/05/"')  # the next month with articles
        assertNotContains(response, "March draft")

    def test_a_scheduled_article_is_not_in_the_archive_before_its_time(self, client, make_article):
        soon = timezone.now() + timedelta(days=1)
        make_article(title="Scheduled", published_at=soon)
        response = client.get(f"/archive/{soon.year}/{soon.month}/")
        assert response.status_code == 404

    @pytest.mark.parametrize(
        "url",
        ["/archive/2020/", "/archive/2024/4/", "/archive/2024/13/", "/archive/2024/0/",
         "/archive/0/", "/archive/9999/", "/archive/99999999999999999999/", "/archive/2024/1/?page=2"],
    )  # fmt: skip
    def test_empty_or_impossible_dates_are_404_not_500(self, client, dated, url):
        assert client.get(url).status_code == 404

    def test_the_list_page_links_months_and_years_with_counts(self, client, dated):
        response = client.get("/")

        content = response.content.decode()
        assertContains(
            response, '<a href="/archive/2024/">2024</a> <span class="count">(3)</span>', html=True
        )
        assertContains(
            response,
            '<a href="/archive/2024/03/">March</a> <span class="count">(2)</span>',
            html=True,
        )
        assertContains(
            response,
            '<a href="/archive/2023/11/">November</a> <span class="count">(1)</span>',
            html=True,
        )
        assert content.index('href="/archive/2024/05/"') < content.index('href="/archive/2024/03/"')
        assertNotContains(response, "(4)")  # the March draft is not counted

    def test_the_list_page_links_topics_with_published_counts(self, client, make_article, dosing):
        make_article().topics.add(dosing)
        make_article(status=Article.Status.DRAFT).topics.add(dosing)
        response = client.get("/")
        assertContains(
            response,
            '<a href="/topics/dosing/">Dosing</a> <span class="count">(1)</span>',
            html=True,
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/", "/topics/", "/topics/dosing/", "/archive/{year}/", "/archive/{year}/{month}/"]
)
def test_page_queries_do_not_grow_with_the_number_of_articles(
    client, make_article, dosing, django_assert_max_num_queries, url
):
    when = timezone.now() - timedelta(hours=1)
    url = url.format(year=when.year, month=when.month)

    def queries_for(total):
        while Article.objects.count() < total:
            make_article(published_at=when).topics.add(dosing)
        cache.clear()  # rendered from scratch, not from the micro-cache
        with django_assert_max_num_queries(7) as captured:  # with the footer's site pages
            assert client.get(url).status_code == 200
        return len(captured)

    assert queries_for(3) == queries_for(60)


@pytest.mark.django_db
class TestEditorsManageTopics:
    def test_the_editors_group_can_manage_topics_and_references(self):
        editors = Group.objects.get(name="Editors")
        granted = {
            f"{app}.{codename}"
            for app, codename in editors.permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        assert granted == set(EDITOR_PERMISSIONS)
        for permission in ("add_topic", "change_topic", "add_reference", "delete_reference"):
            assert f"articles.{permission}" in granted

    def test_an_editor_adds_a_topic_in_the_admin(self, editor_client):
        add_url = reverse("admin:articles_topic_add")
        assert editor_client.get(add_url).status_code == 200

        response = editor_client.post(
            add_url,
            {"name": "Side effects", "slug": "side-effects", "description": "What to expect."},
        )

        assert response.status_code == 302
        assert Topic.objects.get(slug="side-effects").name == "Side effects"
        assert editor_client.get(reverse("admin:articles_topic_changelist")).status_code == 200

    def test_a_duplicate_topic_slug_gets_a_message(self, editor_client, dosing):
        response = editor_client.post(
            reverse("admin:articles_topic_add"), {"name": "Dosing again", "slug": "dosing"}
        )
        assert response.status_code == 200
        assertContains(response, "Topic with this Slug already exists.")

    def test_the_article_form_offers_topics(self, editor_client, dosing):
        response = editor_client.get(reverse("admin:articles_article_add"))
        assert response.status_code == 200
        assertContains(response, 'name="topics"')
        assertContains(response, "Dosing")


class _Structure(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.labels = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["/", "/topics/", "/topics/dosing/", "/archive/{year}/", "/archive/{year}/{month}/",
     "/search/", "/search/?q=dose", "/search/?q=nothing-matches"],
)  # fmt: skip
def test_public_pages_have_one_h1_landmarks_labelled_navs_and_labelled_fields(
    client, make_article, dosing, url
):
    article = make_article(title="Dose guide")
    article.topics.add(dosing)
    url = url.format(year=article.published_at.year, month=article.published_at.month)

    page = _Structure()
    page.feed(client.get(url).content.decode())

    names = [tag for tag, _ in page.tags]
    assert names.count("h1") == 1
    for landmark in ("header", "main", "footer"):
        assert landmark in names
    for tag, attrs in page.tags:
        if tag == "nav":
            assert attrs.get("aria-label") or attrs.get("aria-labelledby")
        if tag == "input" and attrs.get("type") not in ("hidden", "submit"):
            assert attrs.get("id") in page.labels
        assert "style" not in attrs
        if tag == "script":
            assert attrs.get("src") or attrs.get("type") == "application/ld+json"


class TestPresentation:
    CSS = Path(__file__).resolve().parent.parent / "static" / "css"

    def test_the_print_stylesheet_prints_the_article_without_navigation_or_forms(self):
        css = (self.CSS / "print.css").read_text()
        selectors = css.split("{ display: none !important; }")[0].rsplit("}", 1)[-1]
        hidden = {selector.strip() for selector in selectors.split(",")}
        assert {".site-header", ".site-footer", "nav", "form", ".comment-form"} <= hidden
        assert ".article-body" not in hidden and ".references" not in hidden

    def test_the_site_stylesheet_has_dark_mode_and_a_narrow_screen_layout(self):
        css = (self.CSS / "site.css").read_text()
        assert "@media (prefers-color-scheme: dark)" in css
        assert "@media (max-width: 30rem)" in css
        assert "mark {" in css

    @pytest.mark.django_db
    def test_every_page_links_both_stylesheets(self, client):
        response = client.get("/topics/")
        assertContains(response, '<link rel="stylesheet" href="/static/css/site.css">', html=True)
        assertContains(
            response,
            '<link rel="stylesheet" href="/static/css/print.css" media="print">',
            html=True,
        )
