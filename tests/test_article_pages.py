from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from articles.models import Article, RecommendedArticle


class _Outline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def outline(response):
    parser = _Outline()
    parser.feed(response.content.decode())
    return parser.tags


@pytest.mark.django_db
class TestArticleList:
    def test_lists_published_articles_newest_first_with_summary_and_date(
        self, client, make_article
    ):
        old = make_article(title="Older", published_at=timezone.now() - timedelta(days=9))
        new = make_article(title="Newer", published_at=timezone.now() - timedelta(days=1))
        make_article(title="Secret draft", status=Article.Status.DRAFT)
        make_article(title="Not yet", published_at=timezone.now() + timedelta(days=1))

        response = client.get("/")

        assert response.status_code == 200
        assert list(response.context["articles"]) == [new, old]
        assertContains(response, old.summary)
        assertContains(response, f'datetime="{new.published_at.isoformat(timespec="seconds")}"')
        assertNotContains(response, "Secret draft")
        assertNotContains(response, "Not yet")

    def test_is_paginated(self, client, make_article):
        for _ in range(12):
            make_article()
        first = client.get("/")
        second = client.get("/?page=2")
        assert len(first.context["articles"]) == 10
        assert len(second.context["articles"]) == 2
        assertContains(first, 'rel="next"')

    def test_a_page_past_the_end_is_a_404_not_a_500(self, client):
        assert client.get("/?page=99").status_code == 404
        assert client.get("/?page=abc").status_code == 404


@pytest.mark.django_db
class TestArticlePage:
    def test_shows_the_article_with_its_title_as_the_only_h1(
        self, client, make_article, reviewer, record_review
    ):
        article = make_article(
            title="Isotretinoin dosing",
            body="## First\n\ntext\n\n### Sub\n\nmore",
        )
        record_review(article, reviewer)
        response = client.get(article.get_absolute_url())

        assert response.status_code == 200
        tags = outline(response)
        assert [t for t, _ in tags].count("h1") == 1
        assertContains(response, '<h1 id="article-title">Isotretinoin dosing</h1>', html=True)
        assertContains(
            response,
            'Medically reviewed by <a href="/people/dr-rae-reviewer/">Dr Rae Reviewer</a>, MD, FAAD',
        )
        assertContains(response, "min read")
        assertContains(response, 'href="#first"')  # the table of contents
        for landmark in ("header", "main", "footer", "nav"):
            assert landmark in [t for t, _ in tags]
        assertContains(response, f'<meta name="description" content="{article.summary}">')

    def test_recommended_articles_in_the_editors_order_published_only(self, client, make_article):
        article = make_article()
        first = make_article(title="Read this first")
        second = make_article(title="Then this")
        draft = make_article(title="Unfinished", status=Article.Status.DRAFT)
        for position, other in enumerate([first, draft, second]):
            RecommendedArticle.objects.create(article=article, recommended=other, position=position)

        response = client.get(article.get_absolute_url())

        assert response.context["recommendations"] == [first, second]
        content = response.content.decode()
        assert "Recommended Articles" in content
        assert content.index("Read this first") < content.index("Then this")
        assert "Unfinished" not in content

    def test_no_recommended_section_when_there_are_none(self, client, article):
        assertNotContains(client.get(article.get_absolute_url()), "Recommended Articles")

    @pytest.mark.parametrize(
        "fields",
        [
            {"status": Article.Status.DRAFT},
            {"published_at": timezone.now() + timedelta(days=2)},
        ],
        ids=["draft", "scheduled"],
    )
    def test_unpublished_articles_are_404_for_the_public(self, client, make_article, fields):
        article = make_article(**fields)
        assert client.get(article.get_absolute_url()).status_code == 404

    def test_unknown_article_is_a_styled_404(self, client):
        response = client.get("/articles/no-such-thing/")
        assert response.status_code == 404
        assertContains(response, "Page not found", status_code=404)
        assertContains(response, 'href="/static/css/site.css"', status_code=404)


@pytest.mark.django_db
class TestDraftPreview:
    def test_editors_preview_drafts_at_the_real_url(self, editor_client, draft):
        response = editor_client.get(draft.get_absolute_url())

        assert response.status_code == 200
        assertContains(response, "Draft preview")
        assertContains(response, '<meta name="robots" content="noindex, nofollow">')
        assert response["X-Robots-Tag"] == "noindex, nofollow"
        assert "no-cache" in response["Cache-Control"] and "private" in response["Cache-Control"]

    def test_scheduled_articles_show_when_they_will_appear(self, editor_client, make_article):
        scheduled = make_article(published_at=timezone.now() + timedelta(days=2))
        assertContains(editor_client.get(scheduled.get_absolute_url()), "Scheduled for")

    def test_published_articles_have_no_banner_for_staff(self, editor_client, article):
        response = editor_client.get(article.get_absolute_url())
        assertNotContains(response, "Draft preview")
        assert "X-Robots-Tag" not in response

    @pytest.mark.parametrize("who", ["anonymous", "staff_without_permissions"])
    def test_everyone_else_gets_404(self, client, draft, who, request):
        if who != "anonymous":
            client.force_login(request.getfixturevalue(who))
        assert client.get(draft.get_absolute_url()).status_code == 404


@pytest.mark.django_db
class TestSlugChange:
    def test_the_old_url_redirects_permanently_to_the_new_one(self, client, article):
        old_url = article.get_absolute_url()
        article.slug = "a-better-slug"
        article.save()

        response = client.get(old_url)

        assert response.status_code == 301
        assert response["Location"] == "/articles/a-better-slug/"
        assert client.get(response["Location"]).status_code == 200

    def test_an_old_slug_of_an_unpublished_article_stays_404(self, client, article):
        old_url = article.get_absolute_url()
        article.slug = "renamed"
        article.status = Article.Status.DRAFT
        article.save()
        assert client.get(old_url).status_code == 404

    def test_a_new_article_can_take_over_an_old_slug(self, client, article, make_article):
        article.slug = "moved-away"
        article.save()
        newcomer = make_article(slug="published-article", title="Newcomer")
        response = client.get("/articles/published-article/")
        assert response.status_code == 200
        assert response.context["article"] == newcomer


def test_server_error_page_is_styled_and_plain(rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    content = response.content.decode()
    assert "Something went wrong" in content
    assert "Traceback" not in content


@pytest.mark.django_db
def test_an_exception_in_a_view_is_a_styled_500_without_traceback(article, monkeypatch):
    from articles import views

    def explode(self, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(views.ArticleDetailView, "get_context_data", explode)
    client = Client(raise_request_exception=False)
    response = client.get(reverse("articles:detail", kwargs={"slug": article.slug}))
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
    assert b"secret internals" not in response.content
