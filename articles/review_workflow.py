"""The medical review workflow: one function per transition, for the admin, commands and tests.

- An editor asks a reviewer: `request_review()`.
- The reviewer, signed in as themself, decides: `approve()`, `mark_not_significant()`
  or `send_back()`. Nobody else can: not an editor, not a superuser.
- A change to a published medical article's text waits as a `Revision`
  (`hold_for_review()`) until a reviewer approves it (it is then applied) or
  finds it not medically significant (applied, the earlier review still
  covering it); the public page keeps the reviewed text meanwhile.
- What went out without a review is recorded, for the History page and the
  public review history: `record_unreviewed_publication()`,
  `record_unreviewed_update()`.

The publishing rule itself (`is_public_medical()`, `publication_refusal()`)
is applied by the article form and the list's publish action.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import formats, timezone

from .history import latest_version
from .models import Article
from .people import Person
from .reviews import (
    MedicalReview,
    ReviewHistoryEntry,
    Revision,
    review_required,
    text_digest,
)

REVIEW_INTERVAL = timedelta(days=365)


class ReviewRefused(Exception):
    """A transition that may not happen; the message says why, for the person who tried."""


def _day(moment):
    return formats.date_format(timezone.localtime(moment), "j F Y")


# --- the publishing rule -----------------------------------------------------------


def is_public_medical(article):
    """Published (or scheduled) medical content: what readers may act on."""
    return (
        article.status == Article.Status.PUBLISHED
        and article.kind == Article.Kind.ARTICLE
        and article.medical
    )


def is_held(article):
    """Whether the publishing rule applies to the article in this state."""
    return review_required() and is_public_medical(article)


def publication_refusal(article, before=None):
    """Why `article` (as it would be saved) may not become public medical content; None if it may.

    `before` is the article as stored (None for a new one). Staying published
    is not "becoming public": a published article's text change waits as a
    revision instead (see hold_for_review).
    """
    if not is_held(article) or (before is not None and is_public_medical(before)):
        return None
    reviewed = before.reviewed_text_digest if before is not None else ""
    if reviewed and reviewed == article.current_text_digest:
        return None
    if before is not None and before.status == Article.Status.PUBLISHED:
        return (
            f"“{article.title}” is published: it can become medical content only once a medical "
            "reviewer has approved its text. Request a medical review, and tick the box after "
            "the approval."
        )
    return (
        f"“{article.title}” is medical content: it can be published only after a medical "
        "reviewer has approved this exact text. Save it as a draft and use “Request medical "
        "review”; publish it once the review is approved."
    )


# --- requests ---------------------------------------------------------------------


def eligible_reviewers(article):
    """Reviewers who may be asked about `article`: in the group, active, and not its author."""
    return Person.objects.medical_reviewers().exclude(pk=article.author_id)


def pending_revision(article):
    return article.revisions.pending().first()


def open_review(article):
    """The review of `article` waiting for its reviewer, if any (with the reviewer)."""
    return article.medical_reviews.open().select_related("reviewer").first()


def request_review(article, reviewer, requested_by, note=""):
    """Ask `reviewer` to review the article's pending revision, or else its saved text."""
    if not eligible_reviewers(article).filter(pk=reviewer.pk).exists():
        if reviewer.pk == article.author_id:
            raise ReviewRefused("An article is reviewed by someone other than its author.")
        raise ReviewRefused(
            f"{reviewer.name} cannot be asked: reviews are recorded by people linked to an "
            "active account in the Medical reviewers group."
        )
    waiting = open_review(article)
    if waiting is not None:
        raise ReviewRefused(
            f"A review is already waiting: asked of {waiting.reviewer.name} on "
            f"{_day(waiting.requested_at)}. Withdraw it first to ask someone else."
        )
    try:
        with transaction.atomic():
            return MedicalReview.objects.create(
                article=article,
                revision=pending_revision(article),
                reviewer=reviewer,
                requested_by=requested_by,
                request_note=note.strip()[:500],
            )
    except IntegrityError:
        raise ReviewRefused("A review of this article was requested a moment ago.") from None


def withdraw(review, user):
    """The editor takes back a request nobody has decided yet."""
    with transaction.atomic():
        review = MedicalReview.objects.select_for_update().get(pk=review.pk)
        if not review.is_open:
            raise ReviewRefused("This review is no longer waiting.")
        review.status = MedicalReview.Status.WITHDRAWN
        review.decided_at = timezone.now()
        review.note = f"Withdrawn by {_staff_name(user)}."
        review.save(update_fields=["status", "decided_at", "note"])
    return review


def _staff_name(user):
    person = Person.objects.filter(user=user).first()
    return person.name if person else "an editor"


# --- what the reviewer reads ----------------------------------------------------------


@dataclass(frozen=True)
class ReviewedText:
    title: str
    summary: str
    body: str

    @property
    def digest(self):
        return text_digest(self.title, self.summary, self.body)


def text_under_review(review):
    """The text the reviewer is asked about: the pending revision's, else the article's saved text."""
    revision = review.revision
    if revision is not None and revision.status == Revision.Status.PENDING:
        return ReviewedText(revision.title, revision.summary, revision.body)
    article = review.article
    return ReviewedText(article.title, article.summary, article.body)


def last_covering_review(article):
    """The decided review whose text the article's last reviewed text is (None if never reviewed).

    Its `version` is the saved version a diff starts from.
    """
    if not article.reviewed_text_digest:
        return None
    return (
        article.medical_reviews.decided()
        .filter(text_digest=article.reviewed_text_digest)
        .exclude(version=None)
        .select_related("version")
        .order_by("-decided_at", "-id")
        .first()
    )


# --- decisions (the reviewer's own) ----------------------------------------------------


def can_record(review, user):
    """Only the person asked, signed in as themself, and still a reviewer, records the review."""
    return bool(
        user.is_active
        and review.reviewer.user_id is not None
        and review.reviewer.user_id == user.pk
        and user.has_perm("articles.record_review")
    )


def _decidable(review, user, seen_digest):
    """The review locked for the decision, with its article and the text to record."""
    review = (
        MedicalReview.objects.select_for_update(of=("self",))
        .select_related("reviewer", "revision", "article")
        .get(pk=review.pk)
    )
    if not can_record(review, user):
        raise ReviewRefused(
            f"Only {review.reviewer.name}, signed in with their own account, can record this review."
        )
    if not review.is_open:
        raise ReviewRefused(f"This review was already {review.get_status_display().lower()}.")
    if review.revision is not None and review.revision.status != Revision.Status.PENDING:
        raise ReviewRefused("The changes asked about were withdrawn or applied; nothing to review.")
    text = text_under_review(review)
    if seen_digest is not None and seen_digest != text.digest:
        raise ReviewRefused(
            "The text changed while you were reading it. Read the new text and decide again."
        )
    return review, text


def _apply(article, text, reason, user, next_review_due=None):
    """Save the article with `text` as one new version, and return that version."""
    article.title, article.summary, article.body = text.title, text.summary, text.body
    if next_review_due is not None:
        article.next_review_due = next_review_due
    article._change_reason = reason[:100]
    article._history_user = user
    article.save()
    return latest_version(article)


def _close_revision(review, status):
    if review.revision is not None:
        Revision.objects.filter(pk=review.revision_id).update(
            status=status, closed_at=timezone.now()
        )


def _apply_decided_text(
    review, article, text, user, note, reason, status, history_kind, next_review_due=None
):
    """A decision that applies the text read: one new version, the revision closed, recorded."""
    now = timezone.now()
    version = _apply(article, text, reason, user, next_review_due)
    _close_revision(review, Revision.Status.APPLIED)
    _decide(review, status, user, now, note, version, article.text_digest)
    ReviewHistoryEntry.objects.create(
        article=article, kind=history_kind, at=now, review=review, version=version, by=user
    )


@transaction.atomic
def approve(review, user, *, note="", next_review_due=None, seen_digest=None):
    """Record the reviewer's approval of the text they read; a revision is applied with it."""
    review, text = _decidable(review, user, seen_digest)
    article = Article.objects.select_for_update().get(pk=review.article_id)
    reason = f"Medically reviewed by {review.reviewer.name}" + (
        ": the changes waiting for review applied" if review.revision_id else ""
    )
    _apply_decided_text(
        review, article, text, user, note, reason,
        MedicalReview.Status.APPROVED, ReviewHistoryEntry.Kind.REVIEWED, next_review_due,
    )  # fmt: skip
    Article.objects.filter(pk=article.pk).update(
        last_review=review, reviewed_text_digest=article.text_digest
    )
    return review


@transaction.atomic
def mark_not_significant(review, user, *, note="", seen_digest=None):
    """The reviewer finds a change not medically significant: applied, the last review still covers it."""
    review, text = _decidable(review, user, seen_digest)
    if review.revision_id is None:
        raise ReviewRefused(
            "Only a change to a published article can be found not medically significant; "
            "approve or send back the article itself."
        )
    article = Article.objects.select_for_update().get(pk=review.article_id)
    was_covered = article.text_is_reviewed
    _apply_decided_text(
        review, article, text, user, note,
        f"Minor correction, not medically significant ({review.reviewer.name})",
        MedicalReview.Status.MINOR, ReviewHistoryEntry.Kind.CORRECTED,
    )  # fmt: skip
    if was_covered:
        # The reviewed text plus a change a reviewer found not medically significant.
        Article.objects.filter(pk=article.pk).update(reviewed_text_digest=article.text_digest)
    return review


@transaction.atomic
def send_back(review, user, *, note):
    """The reviewer returns the text to the editors with what to change; nothing is applied."""
    if not note.strip():
        raise ReviewRefused("Say what needs to change: the note goes back to the editors.")
    review, _ = _decidable(review, user, None)
    _decide(review, MedicalReview.Status.SENT_BACK, user, timezone.now(), note, None, "")
    return review


def _decide(review, status, user, when, note, version, digest):
    review.status = status
    review.decided_by = user
    review.decided_at = when
    review.note = note.strip()
    review.version = version
    review.text_digest = digest
    review.save(
        update_fields=["status", "decided_by", "decided_at", "note", "version", "text_digest"]
    )


# --- changes that wait ------------------------------------------------------------------


def hold_for_review(article, live, user, note=""):
    """Keep `article`'s new text as the pending revision and put the published text back on it.

    Called before the article is saved; returns the revision. An open request
    for the article's saved text now covers the revision instead.
    """
    revision = pending_revision(live) or Revision(article=live, created_by=user)
    revision.title, revision.summary, revision.body = article.title, article.summary, article.body
    revision.updated_by, revision.updated_at = user, timezone.now()
    if note:
        revision.note = note[:100]
    revision.save()
    live.medical_reviews.open().filter(revision=None).update(revision=revision)
    article.title, article.summary, article.body = live.title, live.summary, live.body
    return revision


def discard_revision(revision):
    """Withdraw the pending changes and any request about them; the published text stays."""
    with transaction.atomic():
        Revision.objects.filter(pk=revision.pk, status=Revision.Status.PENDING).update(
            status=Revision.Status.WITHDRAWN, closed_at=timezone.now()
        )
        revision.reviews.open().update(
            status=MedicalReview.Status.WITHDRAWN,
            decided_at=timezone.now(),
            note="Withdrawn with the changes it was about.",
        )


# --- what went out without a review ----------------------------------------------------


def record_unreviewed_publication(article, user=None, *, override, note=""):
    """A medical article became public with text no reviewer covered (an override, or the rule off)."""
    now = timezone.now()
    when = max(now, article.published_at) if article.published_at else now
    return ReviewHistoryEntry.objects.create(
        article=article,
        kind=ReviewHistoryEntry.Kind.PUBLISHED_UNREVIEWED,
        at=when,
        version=latest_version(article),
        override=override,
        by=user,
        note=note[:200],
    )


def record_unreviewed_update(article, user=None, *, override, note=""):
    """A public medical article's text changed without a review (an override, or the rule off)."""
    return ReviewHistoryEntry.objects.create(
        article=article,
        kind=ReviewHistoryEntry.Kind.UPDATED,
        at=article.text_updated_at or timezone.now(),
        version=latest_version(article),
        override=override,
        by=user,
        note=note[:200],
    )
