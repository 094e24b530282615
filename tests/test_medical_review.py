"""The medical review workflow: who may record a review, what it covers, what the page may say,
the publishing rule and its recorded override, changes that wait, reminders and the guide."""

import importlib
import json
import re
from datetime import date, timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from articles import review_workflow
from articles.management.commands.load_guide import GUIDE_SLUG
from articles.models import Article, MedicalReview, Person, ReviewHistoryEntry, Revision
from articles.review_workflow import ReviewRefused
from articles.roles import REVIEWER_PERMISSIONS

from .conftest import reviewers_group
from .test_article_history import as_posted, history_table, text_of
from .test_articles_admin import CHANGELIST, article_form, change_url

REFUSAL = "it can be published only after a medical reviewer has approved this exact text"


def review_url(review):
    return reverse("admin:articles_medicalreview_review", args=[review.pk])


def request_url(article):
    return reverse("admin:articles_medicalreview_request", args=[article.pk])


def page_text(client, article):
    """The page's words, tags removed (a link inside a sentence leaves no gap)."""
    cache.clear()  # not the copy the micro-cache kept a moment ago
    html = client.get(article.get_absolute_url()).content.decode()
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def words(html):
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def review_line(client, article):
    cache.clear()
    html = client.get(article.get_absolute_url()).content.decode()
    return words(re.search(r'<p class="review">(.*?)</p>', html, re.S).group(1))


def json_ld(client, article):
    cache.clear()
    html = client.get(article.get_absolute_url()).content.decode()
    [block] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return json.loads(block)


def decide(client, review, decision="approve", **fields):
    text = review_workflow.text_under_review(review)
    data = {"decision": decision, "note": "", "next_review_due": "", "seen_digest": text.digest}
    return client.post(review_url(review), {**data, **fields})


@pytest.fixture
def other_reviewer(db, make_person):
    user = User.objects.create_user("reviewer2", "r2@staff.example", is_staff=True)
    user.groups.add(reviewers_group())
    make_person(name="Dr Second Opinion", slug="dr-second", user=user)
    return user


# --- who may do what ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_medical_reviewers_group_has_least_privilege():
    group = Group.objects.get(name="Medical reviewers")
    granted = {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }
    assert granted == set(REVIEWER_PERMISSIONS)
    assert not granted & {
        "articles.change_article",
        "articles.add_article",
        "articles.add_medicalreview",
    }
    editors = {p.codename for p in Group.objects.get(name="Editors").permissions.all()}
    assert "record_review" not in editors and "add_medicalreview" in editors


@pytest.mark.django_db
class TestOnlyTheReviewerRecordsTheirReview:
    @pytest.fixture
    def waiting(self, article, editor, reviewer):
        return review_workflow.request_review(article, reviewer.person, editor)

    def test_an_editor_cannot_record_a_review(self, editor_client, article, waiting):
        page = editor_client.get(review_url(waiting))
        assertContains(page, "Only Dr Rae Reviewer, signed in with their own account, can record")
        assertNotContains(page, "Approve: medically reviewed")

        assert decide(editor_client, waiting).status_code == 403

        waiting.refresh_from_db()
        article.refresh_from_db()
        assert waiting.is_open and article.last_review is None
        assert "has not yet been medically reviewed" in page_text(editor_client, article)

    def test_nor_a_superuser_nor_another_reviewer(self, client, superuser, other_reviewer, waiting):
        for user in (superuser, other_reviewer):
            client.force_login(user)
            assert decide(client, waiting).status_code == 403
        with pytest.raises(ReviewRefused, match="Only Dr Rae Reviewer"):
            review_workflow.approve(waiting, superuser)
        waiting.refresh_from_db()
        assert waiting.is_open

    def test_an_editor_cannot_type_a_review_into_the_article_form(
        self, editor_client, make_article
    ):
        article = make_article(status=Article.Status.DRAFT)
        data = as_posted(
            article,
            reviewed_by="Dr Fake, MD",
            last_reviewed_on="2026-01-01",
            last_review="1",
            reviewed_text_digest=article.text_digest,
        )
        assert editor_client.post(change_url(article), data).status_code == 302
        article.refresh_from_db()
        assert article.last_review is None and article.reviewed_text_digest == ""
        form = editor_client.get(change_url(article)).content.decode()
        for name in ("reviewed_by", "last_reviewed_on", "last_review", "reviewed_text_digest"):
            assert f'name="{name}"' not in form

    def test_a_reviewer_is_not_asked_about_their_own_article(self, make_article, reviewer, editor):
        article = make_article(author=reviewer.person)
        with pytest.raises(ReviewRefused, match="someone other than its author"):
            review_workflow.request_review(article, reviewer.person, editor)

    def test_only_people_in_the_group_can_be_asked(self, article, editor, make_person):
        outsider = make_person(name="Dr Not In The Group", user=editor)
        with pytest.raises(ReviewRefused, match="Medical reviewers group"):
            review_workflow.request_review(article, outsider, editor)

    def test_one_request_at_a_time(self, article, editor, reviewer, other_reviewer, waiting):
        with pytest.raises(ReviewRefused, match="already waiting"):
            review_workflow.request_review(article, other_reviewer.person, editor)


# --- the whole workflow through the admin ----------------------------------------------


@pytest.mark.django_db
def test_an_editor_requests_and_the_reviewer_approves_the_exact_version(
    client, editor, reviewer, make_article
):
    article = make_article(status=Article.Status.DRAFT, title="Sunscreen on isotretinoin")
    client.force_login(editor)
    form = client.get(request_url(article))
    assertContains(form, "Dr Rae Reviewer, MD, FAAD")
    response = client.post(
        request_url(article), {"reviewer": reviewer.person.pk, "note": "New article."}
    )
    assert response.status_code == 302
    review = MedicalReview.objects.get()
    assert (
        review.is_open and review.requested_by == editor and review.request_note == "New article."
    )

    client.force_login(reviewer)
    queue = client.get(reverse("admin:articles_medicalreview_changelist"))
    assertContains(queue, "Sunscreen on isotretinoin")
    page = client.get(review_url(review))
    assertContains(page, "has not been medically reviewed before")
    assertContains(page, "Approve: medically reviewed")
    assertNotContains(page, "Not medically significant")  # only for changes to published text
    response = decide(client, review, note="Accurate.", next_review_due="2027-06-01")
    assert response.status_code == 302

    review.refresh_from_db()
    article.refresh_from_db()
    version = article.history.latest()
    assert review.status == MedicalReview.Status.APPROVED
    assert review.decided_by == reviewer and review.decided_at is not None
    assert review.version == version and version.body == article.body  # the saved version reviewed
    assert version.history_change_reason == "Medically reviewed by Dr Rae Reviewer"
    assert article.last_review == review and article.text_is_reviewed
    assert article.next_review_due == date(2027, 6, 1)
    assert "Medically reviewed by Dr Rae Reviewer" in text_of(history_table(client, article))


@pytest.mark.django_db
def test_sent_back_with_a_note_the_editor_sees_it(editor_client, editor, reviewer, article):
    review = review_workflow.request_review(article, reviewer.person, editor)
    client = Client()
    client.force_login(reviewer)
    assertContains(decide(client, review, "send_back"), "Say what needs to change")
    decide(client, review, "send_back", note="Cite the iPLEDGE rules.")
    review.refresh_from_db()
    assert (
        review.status == MedicalReview.Status.SENT_BACK and review.note == "Cite the iPLEDGE rules."
    )

    form = editor_client.get(change_url(article))
    assertContains(form, "Sent back by Dr Rae Reviewer")
    assertContains(form, "Cite the iPLEDGE rules.")
    assertContains(form, "Request medical review")


# --- an honest page --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_body_change_after_review_says_so_and_drops_last_reviewed_until_the_next_review(
    client, make_article, reviewer, record_review, settings
):
    article = make_article(title="Dosing")
    record_review(article, reviewer, on=date(2026, 1, 15))
    assert review_line(client, article) == (
        "Medically reviewed by Dr Rae Reviewer, MD, FAAD on 15 January 2026."
    )
    data = json_ld(client, article)
    assert data["lastReviewed"] == "2026-01-15"
    assert data["reviewedBy"]["name"] == "Dr Rae Reviewer"

    # A change that bypasses the workflow (the rule off; a shell): the page does not overclaim.
    settings.ARTICLES_REQUIRE_MEDICAL_REVIEW = False
    article.body += "\n\nA new paragraph about 60 mg."
    article.save()
    today = timezone.localdate().strftime("%-d %B %Y")
    assert review_line(client, article) == (
        f"Updated on {today}, after its last medical review on 15 January 2026 by Dr Rae "
        "Reviewer, MD, FAAD. The update has not been medically reviewed yet."
    )
    data = json_ld(client, article)
    assert "lastReviewed" not in data and "reviewedBy" not in data

    # The admin lists it as needing review, and the next review restores the line.
    listed = client.get(CHANGELIST + "?review=changed")
    assert listed.status_code == 302  # (log in first)
    client.force_login(User.objects.create_superuser("root", "root@staff.example", None))
    assert list(client.get(CHANGELIST + "?review=changed").context["cl"].result_list) == [article]
    record_review(article, reviewer)
    client.logout()
    assert review_line(client, article).startswith("Medically reviewed by Dr Rae Reviewer")
    assert json_ld(client, article)["lastReviewed"] == timezone.localdate().isoformat()


@pytest.mark.django_db
def test_the_review_history_lists_reviews_and_updates_with_dates(
    client, make_article, reviewer, record_review, settings
):
    article = make_article(next_review_due=date(2027, 1, 15))
    record_review(article, reviewer, on=date(2026, 1, 15))
    settings.ARTICLES_REQUIRE_MEDICAL_REVIEW = False
    superuser = User.objects.create_superuser("root", "root@staff.example", None)
    client.force_login(superuser)
    client.post(
        change_url(article),
        as_posted(article, body="Rewritten.", medical="on", next_review_due="2027-01-15"),
    )
    client.logout()

    html = client.get(article.get_absolute_url()).content.decode()
    section = words(html[html.index('<h2 id="review-history-heading"') :].split("</section>")[0])
    today = timezone.localdate().strftime("%-d %B %Y")
    assert section == (
        f"Review history {today}: Updated. The changes were not medically reviewed. "
        "15 January 2026: Medically reviewed by Dr Rae Reviewer, MD, FAAD. "
        "Next review due: 15 January 2027."
    )


@pytest.mark.django_db
def test_site_pages_and_non_medical_articles_show_none_of_it(client, make_article):
    page = make_article(kind=Article.Kind.PAGE)
    news = make_article(medical=False)
    for article in (page, news):
        text = page_text(client, article)
        assert "medically reviewed" not in text and "Review history" not in text
    assert json_ld(client, news)["@type"] == "Article"


# --- the publishing rule ------------------------------------------------------------------


@pytest.mark.django_db
class TestPublishingRule:
    def test_the_form_refuses_an_unreviewed_medical_article_with_the_message(self, editor_client):
        response = editor_client.post(
            reverse("admin:articles_article_add"),
            article_form(
                status="published",
                medical="on",
                published_at_0="2026-01-01",
                published_at_1="09:00:00",
            ),
        )
        assert response.status_code == 200
        assertContains(response, REFUSAL)
        assert not Article.objects.exists()

    def test_the_publish_action_refuses_it_too(self, editor_client, draft, make_article):
        news = make_article(status=Article.Status.DRAFT, medical=False)
        response = editor_client.post(
            CHANGELIST,
            {"action": "publish_now", "_selected_action": [draft.pk, news.pk]},
            follow=True,
        )
        assertContains(response, f"Not published: “{draft.title}” is medical content: {REFUSAL}")
        assertContains(response, "Published 1 article(s).")
        draft.refresh_from_db()
        news.refresh_from_db()
        assert draft.status == Article.Status.DRAFT and news.is_published

    def test_a_reviewed_draft_is_published_and_a_changed_one_is_refused_again(
        self, editor_client, draft, reviewer, record_review
    ):
        record_review(draft, reviewer)
        changed = editor_client.post(
            change_url(draft),
            as_posted(draft, status="published", body="Changed after the review."),
        )
        assertContains(changed, REFUSAL)

        response = editor_client.post(change_url(draft), as_posted(draft, status="published"))
        assert response.status_code == 302
        draft.refresh_from_db()
        assert draft.is_published and draft.text_is_reviewed

    def test_a_superuser_override_is_recorded_in_the_history_and_on_the_page(
        self, client, superuser, draft
    ):
        client.force_login(superuser)
        refused = client.post(change_url(draft), as_posted(draft, status="published", medical="on"))
        assertContains(refused, REFUSAL)
        assertContains(refused, "As a superuser you may tick")

        response = client.post(
            change_url(draft),
            as_posted(draft, status="published", medical="on", skip_medical_review="on"),
        )
        assert response.status_code == 302
        draft.refresh_from_db()
        assert draft.is_published
        assert (
            draft.history.latest().history_change_reason
            == "Saved without medical review (superuser)"
        )
        entry = ReviewHistoryEntry.objects.get(article=draft)
        assert entry.kind == ReviewHistoryEntry.Kind.PUBLISHED_UNREVIEWED
        assert entry.override and entry.by == superuser
        assert "Saved without medical review (superuser)" in text_of(history_table(client, draft))
        client.logout()
        text = page_text(client, draft)
        assert "This article has not yet been medically reviewed." in text
        assert "Published without a medical review." in text

    def test_an_editor_has_no_override(self, editor_client, draft):
        response = editor_client.post(
            change_url(draft), as_posted(draft, status="published", skip_medical_review="on")
        )
        assertContains(response, REFUSAL)
        assertNotContains(response, "As a superuser")
        assert (
            'name="skip_medical_review"'
            not in editor_client.get(change_url(draft)).content.decode()
        )

    def test_an_editor_cannot_take_an_article_out_of_the_rule(self, editor_client, article):
        # The box is read-only for them: not posting it leaves the article medical.
        editor_client.post(change_url(article), as_posted(article))
        article.refresh_from_db()
        assert article.medical and article.kind == Article.Kind.ARTICLE
        form = editor_client.get(change_url(article)).content.decode()
        assert 'name="medical"' not in form and 'name="kind"' not in form

    def test_with_the_rule_off_editors_publish_and_it_is_still_recorded(
        self, editor_client, draft, settings
    ):
        settings.ARTICLES_REQUIRE_MEDICAL_REVIEW = False
        assert (
            editor_client.post(change_url(draft), as_posted(draft, status="published")).status_code
            == 302
        )
        entry = ReviewHistoryEntry.objects.get(article=draft)
        assert entry.kind == ReviewHistoryEntry.Kind.PUBLISHED_UNREVIEWED and not entry.override


# --- changes to a published medical article wait -------------------------------------------


@pytest.mark.django_db
class TestChangesWaitForReview:
    @pytest.fixture
    def reviewed(self, make_article, reviewer, record_review):
        article = make_article(title="Dosing", body="## Dose\n\nTake 20 mg a day with food.")
        record_review(article, reviewer, on=date(2026, 1, 15))
        return article

    def test_the_public_page_keeps_the_reviewed_text_while_the_change_waits(
        self, client, editor_client, reviewed
    ):
        response = editor_client.post(
            change_url(reviewed), as_posted(reviewed, body="## Dose\n\nTake 40 mg a day with food.")
        )
        assert response.status_code == 302
        reviewed.refresh_from_db()
        assert "20 mg" in reviewed.body and reviewed.text_is_reviewed
        revision = Revision.objects.get()
        assert revision.status == Revision.Status.PENDING and "40 mg" in revision.body
        assert "Take 20 mg" in page_text(Client(), reviewed)
        assert "Medically reviewed by Dr Rae Reviewer" in page_text(Client(), reviewed)

        form = editor_client.get(change_url(reviewed))
        assertContains(form, "Changes waiting for medical review")
        assert "40 mg" in form.context["adminform"].form["body"].value()  # editors go on with it
        assert reviewed.history.latest().history_change_reason == (
            "Changes to the text wait for medical review"
        )

    def test_approving_applies_them_and_records_that_version(
        self, client, editor_client, editor, reviewer, reviewed
    ):
        editor_client.post(
            change_url(reviewed), as_posted(reviewed, body="## Dose\n\nTake 40 mg a day with food.")
        )
        editor_client.post(request_url(reviewed), {"reviewer": reviewer.person.pk})
        review = MedicalReview.objects.get(status=MedicalReview.Status.REQUESTED)
        assert review.revision == Revision.objects.get()

        client = Client()
        client.force_login(reviewer)
        page = client.get(review_url(review))
        assertContains(page, "Changes since the version reviewed on 15 Jan 2026")
        assert "<del>20</del>" in page.content.decode() and "<ins>40</ins>" in page.content.decode()
        decide(client, review)

        reviewed.refresh_from_db()
        review.refresh_from_db()
        assert "40 mg" in reviewed.body and reviewed.text_is_reviewed
        assert review.version == reviewed.history.latest() and "40 mg" in review.version.body
        assert Revision.objects.get().status == Revision.Status.APPLIED
        client.logout()
        assert "Take 40 mg" in page_text(client, reviewed)
        assert (
            f"Medically reviewed by Dr Rae Reviewer, MD, FAAD on {timezone.localdate().strftime('%-d %B %Y')}"
            in page_text(client, reviewed)
        )

    def test_a_typo_fix_found_not_medically_significant_keeps_the_review(
        self, client, editor_client, editor, reviewer, reviewed
    ):
        editor_client.post(
            change_url(reviewed), as_posted(reviewed, body="## Dose\n\nTake 20 mg a day with fod.")
        )
        reviewed.refresh_from_db()
        Revision.objects.filter(article=reviewed).update(
            body="## Dose\n\nTake 20 mg a day, with food."
        )
        review = review_workflow.request_review(reviewed, reviewer.person, editor)
        client = Client()
        client.force_login(reviewer)
        assertContains(client.get(review_url(review)), "Not medically significant")
        decide(client, review, "minor", note="Punctuation only.")

        reviewed.refresh_from_db()
        review.refresh_from_db()
        assert review.status == MedicalReview.Status.MINOR and review.decided_by == reviewer
        assert "a day, with food" in reviewed.body and reviewed.text_is_reviewed
        assert reviewed.last_review.decided_at.date() == date(2026, 1, 15)
        client.logout()
        text = page_text(client, reviewed)
        assert "Medically reviewed by Dr Rae Reviewer, MD, FAAD on 15 January 2026." in text
        assert "Minor correction, checked by Dr Rae Reviewer as not medically significant." in text

    def test_a_text_that_changed_while_the_reviewer_read_it_is_not_recorded(
        self, client, editor, reviewer, reviewed
    ):
        review = review_workflow.request_review(reviewed, reviewer.person, editor)
        seen = review_workflow.text_under_review(review).digest
        Article.objects.filter(pk=reviewed.pk).update(body="Changed meanwhile.")
        client = Client()
        client.force_login(reviewer)
        response = client.post(review_url(review), {"decision": "approve", "seen_digest": seen})
        assertContains(response, "The text changed while you were reading it")
        review.refresh_from_db()
        assert review.is_open

    def test_reverting_a_published_medical_article_waits_for_review_too(
        self, client, editor_client, reviewed, settings
    ):
        first = reviewed.history.earliest()
        Article.objects.filter(pk=reviewed.pk).update(body="A later text.")
        reviewed.refresh_from_db()
        revert = reverse(
            "admin:articles_article_simple_history", args=[reviewed.pk, first.history_id]
        )
        editor_client.post(revert, as_posted(reviewed, body=first.body))
        reviewed.refresh_from_db()
        assert reviewed.body == "A later text." and Revision.objects.get().body == first.body

    def test_discarding_the_changes_withdraws_the_request(
        self, editor_client, editor, reviewer, reviewed
    ):
        editor_client.post(change_url(reviewed), as_posted(reviewed, title="A new title"))
        review = review_workflow.request_review(reviewed, reviewer.person, editor)
        url = reverse("admin:articles_medicalreview_discard", args=[reviewed.pk])
        assertContains(editor_client.get(url), "Discard the changes")
        editor_client.post(url)
        assert Revision.objects.get().status == Revision.Status.WITHDRAWN
        review.refresh_from_db()
        assert review.status == MedicalReview.Status.WITHDRAWN
        reviewed.refresh_from_db()
        assert reviewed.title == "Dosing"

    def test_a_superuser_may_apply_a_change_without_review_and_it_is_recorded(
        self, client, superuser, reviewed
    ):
        client.force_login(superuser)
        client.post(
            change_url(reviewed),
            as_posted(reviewed, body="Urgent safety fix.", medical="on", skip_medical_review="on"),
        )
        reviewed.refresh_from_db()
        assert reviewed.body == "Urgent safety fix." and not reviewed.text_is_reviewed
        entry = ReviewHistoryEntry.objects.get(kind=ReviewHistoryEntry.Kind.UPDATED)
        assert entry.override and entry.by == superuser
        client.logout()
        assert "Updated on" in page_text(client, reviewed)


# --- the admin index and reminders ---------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_index_shows_what_needs_review(
    client, editor_client, editor, reviewer, make_article, record_review, settings
):
    make_article(title="Waiting")  # published, never reviewed
    asked = make_article(title="Asked")
    review_workflow.request_review(asked, reviewer.person, editor)
    changed = make_article(title="Changed")
    record_review(changed, reviewer)
    Article.objects.filter(pk=changed.pk).update(text_digest="x")
    make_article(title="Overdue", next_review_due=timezone.localdate() - timedelta(days=1))

    text = text_of(editor_client.get(reverse("admin:index")).content.decode())
    assert "1 review requested" in text
    assert "1 article changed since review" in text
    assert "1 article overdue for review" in text
    assert "3 published articles never reviewed" in text

    client.force_login(reviewer)
    assert "1 review waiting for you" in text_of(
        client.get(reverse("admin:index")).content.decode()
    )


@pytest.mark.django_db
def test_review_reminders_email_each_reviewer_their_list_and_nobody_else(
    editor, reviewer, other_reviewer, make_article, make_person, record_review, settings
):
    settings.SITE_URL = "https://blog.example.org"
    asked = make_article(title="Asked of Rae")
    review = review_workflow.request_review(asked, reviewer.person, editor)
    changed = make_article(title="Changed since Rae's review")
    record_review(changed, reviewer)
    Article.objects.filter(pk=changed.pk).update(body="x", text_digest="x")
    overdue = make_article(
        title="Overdue", next_review_due=timezone.localdate() - timedelta(days=3)
    )
    record_review(overdue, reviewer)
    Article.objects.filter(pk=overdue.pk).update(
        next_review_due=timezone.localdate() - timedelta(days=3)
    )
    # Linked to an account outside the group, with something "waiting": never emailed.
    outsider_user = User.objects.create_user("left", "left@staff.example", is_staff=True)
    make_person(name="Dr Left The Group", user=outsider_user)

    out = StringIO()
    call_command("review_reminders", stdout=out)

    assert [message.to for message in mail.outbox] == [["reviewer@staff.example"]]
    [message] = mail.outbox
    assert message.subject == (
        "Medical reviews: 1 waiting for you, 1 changed since your review, 1 overdue"
    )
    assert "Asked of Rae" in message.body and "Changed since Rae" in message.body
    assert (
        f"https://blog.example.org/admin/articles/medicalreview/{review.pk}/review/" in message.body
    )
    assert "Sent 1 reminder(s)." in out.getvalue()

    dry = StringIO()
    call_command("review_reminders", "--dry-run", stdout=dry)
    assert "Dr Rae Reviewer: Medical reviews:" in dry.getvalue() and len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_reminder_that_cannot_be_sent_fails_the_command(editor, reviewer, article, settings):
    review_workflow.request_review(article, reviewer.person, editor)
    settings.EMAIL_BACKEND = "tests.test_medical_review.BrokenBackend"
    with pytest.raises(CommandError, match="Dr Rae Reviewer"):
        call_command("review_reminders", stdout=StringIO())


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("mail server down")


# --- the guide ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_guide_is_published_unreviewed_by_the_editorial_team_and_then_reviewed(
    client, editor, reviewer
):
    call_command("load_guide", stdout=StringIO())
    guide = Article.objects.get(slug=GUIDE_SLUG)

    assert guide.author.is_team and guide.medical and guide.last_review is None
    entry = ReviewHistoryEntry.objects.get(article=guide)
    assert entry.kind == ReviewHistoryEntry.Kind.PUBLISHED_UNREVIEWED and entry.override
    assert "without a medical review" in guide.history.latest().history_change_reason
    text = page_text(client, guide)
    assert "By the editorial team" in text
    assert "This article has not yet been medically reviewed." in text
    assert "Published without a medical review." in text

    review = review_workflow.request_review(guide, reviewer.person, editor)
    client.force_login(reviewer)
    decide(client, review)
    client.logout()
    text = page_text(client, guide)
    assert "Medically reviewed by Dr Rae Reviewer, MD, FAAD on" in text
    assert "By the editorial team" in text  # the byline stays


# --- the data migration ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_authors_into_people_and_keeps_old_review_text_as_a_note():
    executor = MigrationExecutor(connection)
    executor.migrate([("articles", "0011_versions_keep_their_links")])
    apps = executor.loader.project_state([("articles", "0011_versions_keep_their_links")]).apps
    OldArticle = apps.get_model("articles", "Article")
    OldHistory = apps.get_model("articles", "HistoricalArticle")
    OldUser = apps.get_model("auth", "User")
    writer = OldUser.objects.create(username="wren_login", first_name="Wren", last_name="Writer")
    nameless = OldUser.objects.create(username="solo")
    common = {"summary": "s", "body": "b", "status": "published", "published_at": timezone.now()}
    signed = OldArticle.objects.create(title="Signed", slug="signed", author=writer,
                                       reviewed_by="Dr A. Smith, MD", last_reviewed_on=date(2026, 1, 15), **common)  # fmt: skip
    unsigned = OldArticle.objects.create(title="Unsigned", slug="unsigned", **common)
    OldArticle.objects.create(title="Solo", slug="solo", author=nameless, **common)
    OldArticle.objects.create(title="A page", slug="a-page", kind="page", **common)
    for article, author in ((signed, writer), (unsigned, None)):
        OldHistory.objects.create(
            id=article.pk, title=article.title, slug=article.slug, summary="s", body="b",
            status="published", kind="article", author=author, history_date=timezone.now(),
            history_type="+", created_at=timezone.now(), updated_at=timezone.now(),
            allow_comments=True, pinned=False, disclaimer="",
        )  # fmt: skip

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    signed = Article.objects.get(slug="signed")
    assert signed.author.name == "Wren Writer" and signed.author.user.username == "wren_login"
    assert Article.objects.get(slug="unsigned").author.is_team
    assert Article.objects.get(slug="solo").author.name == "solo"  # as its byline already read
    assert signed.last_review is None and not signed.text_is_reviewed  # no fake review
    assert (
        "Dr A. Smith, MD" in signed.legacy_review_note
        and "15 January 2026" in signed.legacy_review_note
    )
    assert signed.text_digest == signed.current_text_digest
    assert not Article.objects.get(slug="a-page").medical and signed.medical
    assert signed.history.get().author_id == signed.author_id
    assert (
        Article.objects.get(slug="unsigned").history.get().author_id
        == Person.objects.editorial_team().pk
    )
    assert Group.objects.filter(name="Medical reviewers").exists()
    assert importlib.import_module("articles.migrations.0013_authors_become_people").legacy_note


@pytest.mark.django_db
def test_an_instance_loaded_before_a_review_cannot_undo_it_when_saved(article, editor, reviewer):
    stale = Article.objects.get(pk=article.pk)  # say, an editor's request that began earlier
    review_workflow.approve(
        review_workflow.request_review(article, reviewer.person, editor), reviewer
    )
    stale.pinned = True
    stale.save()
    article.refresh_from_db()
    assert article.pinned and article.last_review is not None and article.text_is_reviewed


@pytest.mark.django_db
def test_a_published_article_becomes_medical_content_only_once_reviewed(
    editor_client, make_article, editor, reviewer
):
    news = make_article(medical=False, title="Clinic opening hours")
    response = editor_client.post(change_url(news), as_posted(news, medical="on"))
    assertContains(response, "it can become medical content only once a medical reviewer")
    news.refresh_from_db()
    assert not news.medical

    review_workflow.approve(review_workflow.request_review(news, reviewer.person, editor), reviewer)
    news.refresh_from_db()
    assert editor_client.post(change_url(news), as_posted(news, medical="on")).status_code == 302
    news.refresh_from_db()
    assert news.medical and news.text_is_reviewed
