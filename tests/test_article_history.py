"""An article's History page and reverting: the whole article, in words, bylines untouched."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from articles import review_workflow
from articles.history import line_diff
from articles.management.commands.load_guide import GUIDE_SLUG
from articles.models import Article, RecommendedArticle, Reference, Topic

from .test_articles_admin import article_form, change_url


def history_url(article):
    return reverse("admin:articles_article_history", args=[article.pk])


def revert_url(article, version):
    return reverse("admin:articles_article_simple_history", args=[article.pk, version.history_id])


def history_table(client, article):
    html = client.get(history_url(article)).content.decode()
    start = html.index('<table id="change-history"')
    return html[start : html.index("</table>", start)]


def text_of(html):
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def as_posted(article, **overrides):
    """The change form as the browser sends it back: the article's links included."""
    links = [
        link.recommended for link in article.recommendation_links.select_related("recommended")
    ]
    when = timezone.localtime(article.published_at) if article.published_at else None
    fields = {
        "author": str(article.author_id or ""),
        "topics": [str(topic.pk) for topic in article.topics.all()],
        "published_at_0": when.strftime("%Y-%m-%d") if when else "",
        "published_at_1": when.strftime("%H:%M:%S") if when else "",
        **({"pinned": "on"} if article.pinned else {}),
    }
    data = article_form(article, links=links, **{**fields, **overrides})
    for index, link in enumerate(article.recommendation_links.all()):
        data[f"recommendation_links-{index}-id"] = str(link.pk)
    data["recommendation_links-INITIAL_FORMS"] = str(len(links))
    return data


@pytest.fixture
def guide(db):
    call_command("load_guide", stdout=StringIO())
    return Article.objects.get(slug=GUIDE_SLUG)


@pytest.fixture
def article(make_article):
    """Not medical content, so that an editor's change is applied at once: a medical
    article's text waits for review first (tests/test_medical_review.py)."""
    return make_article(title="Published article", slug="published-article", medical=False)


@pytest.mark.django_db
class TestBylines:
    def test_the_guide_keeps_its_byline_through_an_editors_save_and_a_revert(
        self, editor_client, client, guide
    ):
        first = guide.history.earliest()
        response = editor_client.post(change_url(guide), as_posted(guide, title="Edited title"))
        assert response.status_code == 302
        guide.refresh_from_db()
        assert guide.author.is_team
        assert "By the editorial team" in text_of(
            client.get(guide.get_absolute_url()).content.decode()
        )

        editor_client.post(revert_url(guide, first), as_posted(guide, title=first.title))
        guide.refresh_from_db()
        assert guide.title == first.title and guide.author.is_team
        assert "By the editorial team" in text_of(
            client.get(guide.get_absolute_url()).content.decode()
        )

    def test_an_editor_saving_someone_elses_article_leaves_their_name(
        self, editor_client, article, superuser, make_person
    ):
        someone = make_person(name="Sam Someone", user=superuser)
        Article.objects.filter(pk=article.pk).update(author=someone)
        article.refresh_from_db()

        editor_client.post(change_url(article), as_posted(article, title="Edited by Eda"))

        article.refresh_from_db()
        assert article.author == someone and article.title == "Edited by Eda"


@pytest.mark.django_db
class TestTheHistoryPage:
    def test_a_removed_recommendation_is_named_and_reverting_brings_it_back(
        self, editor_client, guide
    ):
        before = guide.history.latest()
        data = as_posted(guide)
        data["recommendation_links-1-DELETE"] = "on"  # "How comments are moderated"

        editor_client.post(change_url(guide), data)

        assert [a.title for a in guide.published_recommendations()] == [
            "How we review medical content"
        ]
        table = text_of(history_table(editor_client, guide))
        assert "Recommended: removed “How comments are moderated”" in table

        response = editor_client.post(revert_url(guide, before), as_posted(guide))
        assert response.status_code == 302
        assert [a.title for a in guide.published_recommendations()] == [
            "How we review medical content",
            "How comments are moderated",
        ]
        assert "Recommended: added “How comments are moderated”" in text_of(
            history_table(editor_client, guide)
        )

    def test_reverting_restores_references_and_topics_too(self, editor_client, article):
        topic = Topic.objects.create(name="Side effects", slug="side-effects")
        article.topics.add(topic)
        Reference.objects.create(
            article=article, title="Layton 2009", url="https://doi.org/10.1", position=1
        )
        editor_client.post(change_url(article), as_posted(article))  # a version with both
        with_links = article.history.latest()
        article.topics.clear()
        article.references.all().delete()
        editor_client.post(change_url(article), as_posted(article, title="Without links"))
        assert "References: removed “Layton 2009”" in text_of(history_table(editor_client, article))

        form = editor_client.get(revert_url(article, with_links))
        assertContains(form, "Reverting also restores this version")
        assertContains(form, "“Layton 2009”")
        editor_client.post(
            revert_url(article, with_links), as_posted(article, title=with_links.title)
        )

        assert [r.title for r in article.references.all()] == ["Layton 2009"]
        assert list(article.topics.all()) == [topic]

    def test_a_body_change_is_a_full_line_diff_with_the_changed_words_marked(
        self, editor_client, editor, guide, reviewer
    ):
        last_paragraph = guide.body.strip().splitlines()[-1]
        changed = guide.body.replace(last_paragraph, last_paragraph + " Ask about sun protection.")

        editor_client.post(change_url(guide), as_posted(guide, body=changed))
        # The guide is medical content: the change is applied when a reviewer approves it.
        review_workflow.approve(
            review_workflow.request_review(guide, reviewer.person, editor), reviewer
        )

        table = history_table(editor_client, guide)
        assert "chars]" not in table  # nothing cut
        assert "<ins> Ask about sun protection.</ins>" in table
        assert "Pin to the top" not in table  # only what changed
        assert last_paragraph.split()[0] in table  # the whole line, not an excerpt

    def test_no_none_and_no_microsecond_noise(self, editor_client, article):
        # An older save left microseconds; the admin's form keeps whole seconds.
        Article.objects.filter(pk=article.pk).update(
            published_at=article.published_at.replace(microsecond=123456)
        )
        article.refresh_from_db()
        article.save()  # a version saved by a command: no user, no note

        editor_client.post(change_url(article), as_posted(article, title="Retitled"))

        table = text_of(history_table(editor_client, article))
        assert "None" not in table
        assert "Published at" not in table and "Updated at" not in table
        assert "Title: “Published article” → “Retitled”" in table

    def test_the_editors_note_is_shown(self, editor_client, article):
        editor_client.post(
            change_url(article), as_posted(article, change_note="Fixed the dose in section 2")
        )
        assertContains(editor_client.get(history_url(article)), "Fixed the dose in section 2")

    def test_a_revert_says_so_in_the_history(self, editor_client, article):
        first = article.history.earliest()
        editor_client.post(change_url(article), as_posted(article, title="Changed"))
        editor_client.post(revert_url(article, first), as_posted(article, title=first.title))
        assert article.history.latest().history_change_reason.startswith(
            "Reverted to the version of"
        )

    def test_versions_from_before_links_were_kept_are_left_alone(
        self, editor_client, article, make_article
    ):
        other = make_article(title="Still recommended")
        RecommendedArticle.objects.create(article=article, recommended=other, position=1)
        old = article.history.earliest()
        type(old).objects.filter(pk=old.pk).update(links=None)

        assertContains(
            editor_client.get(revert_url(article, old)), "reverting leaves them as they are"
        )
        editor_client.post(revert_url(article, old), as_posted(article, title=old.title))

        assert list(article.published_recommendations()) == [other]
        assertNotContains(editor_client.get(history_url(article)), "Recommended: removed")


def test_line_diff_keeps_whole_lines_and_marks_changed_words():
    old = "Intro.\n\nThe usual dose is 20 mg.\n\nEnd."
    new = "Intro.\n\nThe usual dose is 40 mg.\n\nEnd."

    (hunk,) = line_diff(old, new)

    removed = next(line for line in hunk.lines if line.sign == "-")
    added = next(line for line in hunk.lines if line.sign == "+")
    assert "".join(s.text for s in removed.segments) == "The usual dose is 20 mg."
    assert [s.text for s in added.segments if s.changed] == ["40"]


def test_the_first_version_is_said_to_be_the_first(db, editor_client, article):
    assert "First version." in text_of(history_table(editor_client, article))


@pytest.mark.django_db
@pytest.mark.parametrize("version", ["x", "9999"])
def test_an_unknown_version_is_404(editor_client, article, version):
    url = reverse("admin:articles_article_history", args=[article.pk]) + f"{version}/"
    assert editor_client.get(url).status_code == 404


@pytest.mark.django_db
def test_the_data_migration_gives_the_newest_versions_their_links(article, make_article):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("articles.migrations.0011_versions_keep_their_links")
    other = make_article(title="Read next")
    RecommendedArticle.objects.create(article=article, recommended=other, position=1)
    article.save()  # two versions
    article.history.update(links=None)  # as every version was before the migration

    migration.keep_links_on_newest_versions(apps, None)

    assert article.history.latest().links["recommended"] == [{"id": other.pk, "title": "Read next"}]
    assert article.history.earliest().links is None  # unknown, and said to be
