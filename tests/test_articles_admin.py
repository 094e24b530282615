"""The admin pages editors use, as a member of the Editors group sees them."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse
from pytest_django.asserts import assertContains

from articles.models import Article, Person, RecommendedArticle

CHANGELIST = reverse("admin:articles_article_changelist")
ADD = reverse("admin:articles_article_add")


def change_url(article):
    return reverse("admin:articles_article_change", args=[article.pk])


def inline_prefixes():
    """The form prefix of every inline on the article admin page (one per related name)."""
    prefixes = []
    for inline in admin.site._registry[Article].inlines:
        for field in inline.model._meta.get_fields():
            if (
                getattr(field, "related_model", None) is Article
                and field.many_to_one
                and inline.fk_name in (None, field.name)
            ):
                prefixes.append(field.remote_field.get_accessor_name())
    return prefixes


def article_form(article=None, links=(), **overrides):
    """POST data for the article admin form with its recommended-articles inline."""
    data = {
        "title": "Managing dry lips on isotretinoin",
        "slug": "managing-dry-lips",
        "summary": "Practical tips.",
        "body": "## Lips\n\nUse a balm.",
        "status": "draft",
        "published_at_0": "",
        "published_at_1": "",
        "author": str(Person.objects.editorial_team().pk),
        "allow_comments": "on",
        "next_review_due": "",
    }
    for prefix in inline_prefixes():
        data[f"{prefix}-TOTAL_FORMS"] = "0"
        data[f"{prefix}-INITIAL_FORMS"] = "0"
    data["recommendation_links-TOTAL_FORMS"] = str(len(links))
    if article is not None:
        for name in ("title", "slug", "summary", "body", "status"):
            data[name] = getattr(article, name)
        data["author"] = str(article.author_id)
    for index, recommended in enumerate(links):
        data[f"recommendation_links-{index}-recommended"] = str(recommended.pk)
        data[f"recommendation_links-{index}-position"] = str(index + 1)
        data[f"recommendation_links-{index}-id"] = ""
        data[f"recommendation_links-{index}-article"] = str(article.pk) if article else ""
    data.update(overrides)
    return data


def management_forms(response):
    """Every formset the admin page rendered must be present in our POST data."""
    return {formset.formset.prefix for formset in response.context["inline_admin_formsets"]}


@pytest.mark.django_db
class TestEditorsUseTheAdmin:
    def test_the_editors_group_exists_with_article_permissions_only(self):
        codenames = set(
            Group.objects.get(name="Editors").permissions.values_list(
                "content_type__app_label", flat=True
            )
        )
        assert codenames == {"articles"}

    @pytest.mark.parametrize(
        "query",
        [
            "",
            "?status__exact=draft",
            "?q=isotretinoin",
            "?review=overdue",
            "?published_at__year=2026",
        ],
    )
    def test_the_article_list_with_filters_and_search(self, editor_client, article, draft, query):
        response = editor_client.get(CHANGELIST + query)
        assert response.status_code == 200

    def test_the_list_shows_status_dates_and_author_columns(self, editor_client, article, draft):
        response = editor_client.get(CHANGELIST)
        for column in ("Status", "Published at", "Medical review · next due", "Author"):
            assertContains(response, column)
        assertContains(response, "Publish selected articles now")
        assertContains(response, "Unpublish selected articles")

    def test_add_page_has_the_markdown_editor_and_the_sortable_inline(self, editor_client):
        response = editor_client.get(ADD)
        assert response.status_code == 200
        assertContains(response, "markdownx")
        assertContains(response, "/admin-tools/markdown/preview/")
        assert "recommendation_links" in management_forms(response)

    def test_an_editor_writes_and_schedules_an_article(self, editor_client, editor, make_person):
        # The add form names its writer's person as the author (see test_bylines.py); the browser posts it.
        writer = make_person(name="Eda Editor", user=editor)
        response = editor_client.post(
            ADD,
            article_form(
                status="published",
                published_at_0="2099-01-01",
                published_at_1="09:00:00",
                author=str(writer.pk),
            ),
        )
        assert response.status_code == 302, response.context["errors"] if response.context else ""
        article = Article.objects.get(slug="managing-dry-lips")
        assert article.author == writer
        assert not article.medical  # the box was not ticked; a medical one waits for review
        assert article.is_scheduled
        assert '<h2 id="lips">' in article.body_html

    def test_a_body_over_the_limit_gets_a_clear_error_and_is_kept(self, editor_client):
        body = "Dry lips. " * 10_000 + "Dry lips."  # 100,009 characters
        response = editor_client.post(ADD, article_form(body=body))
        assert response.status_code == 200
        assertContains(
            response, "Please keep the article under 100,000 characters (it has 100,009)."
        )
        assert response.context["adminform"].form["body"].value() == body
        assert not Article.objects.exists()

    def test_an_editor_orders_recommendations_in_the_inline(
        self, editor_client, article, make_article
    ):
        first, second = make_article(title="First pick"), make_article(title="Second pick")
        response = editor_client.post(
            change_url(article), article_form(article, links=[second, first])
        )
        assert response.status_code == 302
        assert list(article.published_recommendations()) == [second, first]

    def test_the_change_page_lists_existing_recommendations(
        self, editor_client, article, make_article
    ):
        other = make_article(title="Linked")
        RecommendedArticle.objects.create(article=article, recommended=other)
        response = editor_client.get(change_url(article))
        assert response.status_code == 200
        assertContains(response, "Recommended articles (drag to order)")

    @pytest.mark.parametrize("problem", ["itself", "twice"])
    def test_bad_recommendations_get_a_clear_message(
        self, editor_client, article, make_article, problem
    ):
        other = make_article()
        links = [article] if problem == "itself" else [other, other]
        response = editor_client.post(change_url(article), article_form(article, links=links))
        assert response.status_code == 200
        message = "cannot recommend itself" if problem == "itself" else "recommended only once"
        assertContains(response, message)
        assert not RecommendedArticle.objects.exists()

    def test_the_recommendation_autocomplete_answers(self, editor_client, article):
        response = editor_client.get(
            reverse("admin:autocomplete"),
            {
                "term": "Published",
                "app_label": "articles",
                "model_name": "recommendedarticle",
                "field_name": "recommended",
            },
        )
        assert response.status_code == 200
        assert response.json()["results"][0]["text"] == "Published article"

    def test_publish_and_unpublish_actions(self, editor_client, make_article, article):
        # Not medical content: a medical draft needs a review first (tests/test_medical_review.py).
        draft = make_article(status=Article.Status.DRAFT, medical=False)
        response = editor_client.post(
            CHANGELIST, {"action": "publish_now", "_selected_action": [draft.pk]}, follow=True
        )
        assertContains(response, "Published 1 article(s).")
        draft.refresh_from_db()
        assert draft.is_published

        editor_client.post(CHANGELIST, {"action": "unpublish", "_selected_action": [article.pk]})
        article.refresh_from_db()
        assert article.status == Article.Status.DRAFT

    def test_history_shows_what_changed_and_reverts(self, editor_client, make_article):
        # Not medical content: a medical article's changes wait for review (test_medical_review.py).
        article = make_article(medical=False)
        original_title = article.title
        editor_client.post(change_url(article), article_form(article, title="A new title"))
        article.refresh_from_db()
        assert article.title == "A new title"

        history = editor_client.get(reverse("admin:articles_article_history", args=[article.pk]))
        assert history.status_code == 200
        assertContains(history, "A new title")

        first_version = article.history.earliest()
        revert_url = reverse(
            "admin:articles_article_simple_history", args=[article.pk, first_version.history_id]
        )
        assert editor_client.get(revert_url).status_code == 200
        response = editor_client.post(revert_url, article_form(article, title=original_title))
        assert response.status_code == 302
        article.refresh_from_db()
        assert article.title == original_title
        assert article.history.count() == 3

    def test_view_on_site_leads_to_the_public_url(self, editor_client, article):
        page = editor_client.get(change_url(article)).content.decode()
        shortcut = page.split('class="viewsitelink"')[0].rsplit('href="', 1)[1].split('"')[0]
        response = editor_client.get(shortcut)
        assert response.status_code == 302
        assert response["Location"].endswith(article.get_absolute_url())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        reverse("admin:auth_user_changelist"),
        reverse("admin:auth_group_changelist"),
    ],
)
def test_editors_cannot_reach_anything_else(editor_client, url):
    assert editor_client.get(url).status_code == 403


@pytest.mark.django_db
def test_the_change_page_reads_the_article_and_its_review_once(
    editor_client, make_article, reviewer, record_review, django_assert_max_num_queries
):
    article = make_article(medical=True)
    record_review(article, reviewer)
    editor_client.get(change_url(article))  # content types and permissions cached
    # The review panel and the form share one read of the article with its
    # reviewer: session, user, the article, its waiting changes, two review
    # lookups, permissions, the form's choices and inlines.
    with django_assert_max_num_queries(13) as captured:
        response = editor_client.get(change_url(article))
    assertContains(response, "Medically reviewed by Dr Rae Reviewer")
    article_reads = [
        query["sql"]
        for query in captured.captured_queries
        if re.search(r'\bFROM "articles_article"\s+(LEFT OUTER |INNER )?(JOIN|WHERE)', query["sql"])
        and f'"articles_article"."id" = {article.pk}' in query["sql"]
    ]
    assert len(article_reads) == 1, article_reads
