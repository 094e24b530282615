"""Site pages (about, policies, contact): edited like articles, never listed as articles."""

import importlib
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from articles.management.commands.load_guide import GUIDE_SLUG
from articles.models import Article, RecommendedArticle, Topic

LISTINGS = [
    "/",
    "/feed/",
    "/feed/atom/",
    "/archive/{year}/",
    "/archive/{year}/{month}/",
    "/topics/",
]


@pytest.fixture
def about(make_article):
    page = make_article(
        title="About this site",
        slug="about",
        summary="Who writes it.",
        body="## Who we are\n\nA small team.",
        kind=Article.Kind.PAGE,
        allow_comments=False,
    )
    return page


@pytest.fixture
def topic(about, article):
    topic = Topic.objects.create(name="Dosing", slug="dosing")
    topic.articles.add(about, article)
    return topic


@pytest.mark.django_db
class TestNotListed:
    @pytest.mark.parametrize("url", LISTINGS)
    def test_a_page_is_in_no_listing_of_articles(self, client, about, article, topic, url):
        url = url.format(year=about.published_at.year, month=f"{about.published_at.month:02d}")
        response = client.get(url)

        assert response.status_code == 200
        content = response.content.decode()
        footer = content.rfind('<footer class="site-footer"')
        listed = content if url.startswith("/feed") else content[:footer]
        assert "About this site" not in listed
        if url != "/topics/":
            assert "Published article" in listed  # the article next to it is listed

    def test_a_page_is_in_no_topic_page_or_topic_feed(self, client, about, article, topic):
        for url in (topic.get_absolute_url(), reverse("articles:topic-feed", args=[topic.slug])):
            content = client.get(url).content.decode()
            body = (
                content[: content.rfind('<footer class="site-footer"')]
                if "<footer" in content
                else content
            )
            assert "About this site" not in body
            assert "Published article" in body

    def test_the_sitemap_has_pages_in_their_own_section(self, client, about, article):
        pages = client.get("/sitemap-pages.xml").content.decode()
        articles = client.get("/sitemap-articles.xml").content.decode()
        assert "/pages/about/" in pages and "/pages/about/" not in articles
        assert "/articles/about/" not in pages + articles
        assert article.get_absolute_url() in articles and article.get_absolute_url() not in pages

    def test_search_finds_pages_too(self, client, about):
        # A reader searching "who writes" wants the about page: search covers the whole site.
        assertContains(client.get("/search/", {"q": "small team"}), "/pages/about/")

    def test_the_footer_links_every_published_page(self, client, about, article, make_article):
        make_article(
            title="Unpublished page", slug="draft-page", kind=Article.Kind.PAGE, status="draft"
        )
        response = client.get(article.get_absolute_url())
        footer = response.content.decode().split('<footer class="site-footer"')[1]
        assert '<a href="/pages/about/">About this site</a>' in footer
        assert "Unpublished page" not in footer


@pytest.mark.django_db
class TestThePage:
    def test_no_medical_disclaimer_review_notice_byline_or_comment_form(self, client, about):
        response = client.get("/pages/about/")

        assert response.status_code == 200
        assertContains(response, "<h1", count=1)
        assertContains(response, "A small team.")
        for absent in (
            "not medical advice. Talk to your dermatologist before",  # the article disclaimer
            "medically reviewed",
            "Medical disclaimer",
            "By the editorial team",
            'rel="author"',
            "Review history",
            'class="comment-form"',
            "Leave a Reply",
            "MedicalWebPage",
        ):
            assertNotContains(response, absent)

    def test_comments_when_an_editor_turns_them_on(self, client, about, comment_form_data):
        about.allow_comments = True
        about.save()

        assertContains(client.get("/pages/about/"), 'class="comment-form"')
        response = client.post(reverse("comments:post", args=[about.pk]), comment_form_data(about))
        assert response.status_code == 302
        assert response["Location"] == "/pages/about/#comments"

    def test_a_page_with_comments_off_refuses_a_posted_comment(
        self, client, about, comment_form_data
    ):
        response = client.post(reverse("comments:post", args=[about.pk]), comment_form_data(about))
        assert response.status_code == 403

    def test_old_article_addresses_move_to_the_page_and_back(self, client, about, article):
        assert client.get("/articles/about/")["Location"] == "/pages/about/"
        assert client.get("/articles/about/").status_code == 301
        assert client.get(f"/pages/{article.slug}/")["Location"] == article.get_absolute_url()

    def test_a_draft_page_is_404_for_readers_and_previewed_for_staff(
        self, editor_client, make_article
    ):
        make_article(title="Contact", slug="contact", kind=Article.Kind.PAGE, status="draft")
        assert Client().get("/pages/contact/").status_code == 404
        preview = editor_client.get("/pages/contact/")
        assertContains(preview, "Draft preview")
        assert preview["X-Robots-Tag"] == "noindex, nofollow"


@pytest.mark.django_db
def test_the_guide_recommends_its_companion_pages(client):
    call_command("load_guide", stdout=StringIO())
    guide = Article.objects.get(slug=GUIDE_SLUG)

    response = client.get(guide.get_absolute_url())

    assertContains(
        response,
        '<a href="/pages/how-we-review-medical-content/">How we review medical content</a>',
    )
    assertContains(
        response, '<a href="/pages/how-comments-are-moderated/">How comments are moderated</a>'
    )
    home = client.get("/").content.decode()
    assert home.count("How comments are moderated") == 1  # in the footer only


@pytest.mark.django_db
def test_the_data_migration_makes_the_companion_pages_site_pages_and_back(make_article):
    migration = importlib.import_module(
        "articles.migrations.0010_companion_pages_become_site_pages"
    )
    guide = make_article(slug=GUIDE_SLUG)
    pages = [make_article(slug=slug) for slug in migration.COMPANION_SLUGS]
    other = make_article(slug="something-else")
    RecommendedArticle.objects.create(article=guide, recommended=pages[0], position=1)

    migration.make_site_pages(apps, None)

    assert {a.slug for a in Article.objects.filter(kind="page", allow_comments=False)} == set(
        migration.COMPANION_SLUGS
    )
    assert Article.objects.get(pk=other.pk).kind == "article"
    assert Article.objects.get(pk=guide.pk).pinned
    assert [a.slug for a in guide.published_recommendations()] == [pages[0].slug]

    migration.make_articles_again(apps, None)
    assert not Article.objects.filter(kind="page").exists()
