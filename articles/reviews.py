"""Medical reviews: requested by an editor, recorded by the reviewer, tied to the text reviewed.

- `MedicalReview` is one request and its outcome: who was asked, by whom,
  and, once decided, who decided, when, with which note, and which saved
  version of the article (its HistoricalArticle record) the decision covers.
- `Revision` holds a change to a published medical article's title, summary
  or body while it waits for review; the public page keeps the reviewed text.
- `ReviewHistoryEntry` is the public change log under an article: reviews,
  minor corrections, and text that went out without a review.

"The reviewed text" is compared by a digest of the title, summary and body
(`text_digest()`): the article keeps the digest of its current text and of
the last text a reviewer covered, so "changed since review" is one column
compared with another, in SQL for the admin and in Python for the page.
The transitions live in articles/review_workflow.py.
"""

import hashlib
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import normalize_newlines

TEXT_FIELDS = ("title", "summary", "body")


def text_digest(title, summary, body):
    """A fingerprint of the text readers read; a line ending typed as CRLF is the same text."""
    parts = [normalize_newlines(value or "") for value in (title, summary, body)]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def review_required():
    """Whether medical articles need an approved review to be published or to change (the setting)."""
    return getattr(settings, "ARTICLES_REQUIRE_MEDICAL_REVIEW", True)


class MedicalReviewQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=MedicalReview.Status.REQUESTED)

    def decided(self):
        """Reviews that covered a text: approved, or a change found not medically significant."""
        return self.filter(status__in=[MedicalReview.Status.APPROVED, MedicalReview.Status.MINOR])

    def for_user(self, user):
        return self.filter(reviewer__user=user)


class MedicalReview(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", "Waiting for review"
        APPROVED = "approved", "Approved"
        MINOR = "minor", "Not medically significant"
        SENT_BACK = "sent_back", "Sent back"
        WITHDRAWN = "withdrawn", "Withdrawn"

    article = models.ForeignKey(
        "articles.Article", on_delete=models.CASCADE, related_name="medical_reviews"
    )
    revision = models.ForeignKey(
        "articles.Revision",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reviews",
        help_text="The proposed change reviewed; empty: the article's saved text.",
    )
    reviewer = models.ForeignKey(
        "articles.Person", on_delete=models.PROTECT, related_name="reviews"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.REQUESTED, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    request_note = models.CharField("note for the reviewer", max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The reviewer's own account, which recorded the decision.",
    )
    decided_at = models.DateTimeField(null=True, blank=True, db_index=True)
    note = models.TextField("reviewer's note", blank=True)
    version = models.ForeignKey(
        "articles.HistoricalArticle",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The saved version of the article the decision covers.",
    )
    text_digest = models.CharField(max_length=64, blank=True, editable=False)

    objects = MedicalReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = "medical review"
        permissions = [("record_review", "Can record their own medical reviews")]
        constraints = [
            models.UniqueConstraint(
                fields=["article"],
                condition=Q(status="requested"),
                name="one_open_review_per_article",
                violation_error_message="A review of this article is already waiting.",
            )
        ]

    def __str__(self):
        return f"Review of “{self.article}” by {self.reviewer.name}"

    @property
    def is_open(self):
        return self.status == self.Status.REQUESTED


class RevisionQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=Revision.Status.PENDING)


class Revision(models.Model):
    """A change to a published medical article's text, waiting for a reviewer."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        APPLIED = "applied", "Applied"
        WITHDRAWN = "withdrawn", "Withdrawn"

    article = models.ForeignKey(
        "articles.Article", on_delete=models.CASCADE, related_name="revisions"
    )
    title = models.CharField(max_length=200)
    summary = models.TextField(max_length=300)
    body = models.TextField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    note = models.CharField("note for the history", max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["article"],
                condition=Q(status="pending"),
                name="one_pending_revision_per_article",
            )
        ]

    def __str__(self):
        return f"Revision of “{self.article}” ({self.get_status_display().lower()})"


class ReviewHistoryEntry(models.Model):
    """One line of an article's public review history."""

    class Kind(models.TextChoices):
        REVIEWED = "reviewed", "Medically reviewed"
        CORRECTED = "corrected", "Minor correction, not medically significant"
        UPDATED = "updated", "Updated without a medical review"
        PUBLISHED_UNREVIEWED = "published", "Published without a medical review"

    article = models.ForeignKey(
        "articles.Article", on_delete=models.CASCADE, related_name="review_history"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    review = models.ForeignKey(
        MedicalReview, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.ForeignKey(
        "articles.HistoricalArticle",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    override = models.BooleanField(
        default=False,
        help_text="A superuser (or the site owner's load_guide) let the text out without review.",
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "review history entries"

    def __str__(self):
        return f"{self.get_kind_display()} ({self.at:%Y-%m-%d})"


# --- what the page may say -------------------------------------------------------


@dataclass(frozen=True)
class ReviewStatus:
    """What an article's page says about its medical review, decided in one place."""

    state: str  # "reviewed", "updated" (after its last review) or "unreviewed"
    reviewer: object = None  # the Person of the last full review
    reviewed_on: date | None = None
    updated_on: date | None = None

    @property
    def is_reviewed(self):
        return self.state == "reviewed"


def review_status(article):
    """The review status of `article`'s current text; None for site pages and non-medical articles.

    Reads only the article and its select_related last review and reviewer.
    """
    if article.is_page or not article.medical:
        return None
    review = article.last_review if article.last_review_id else None
    if review is None:
        return ReviewStatus("unreviewed")
    reviewed_on = timezone.localtime(review.decided_at).date()
    if article.text_is_reviewed:
        return ReviewStatus("reviewed", review.reviewer, reviewed_on)
    updated = article.text_updated_at or article.updated_at
    return ReviewStatus("updated", review.reviewer, reviewed_on, timezone.localtime(updated).date())


def covered_q():
    """Articles whose current text is the text a reviewer last covered (for querysets)."""
    return ~Q(reviewed_text_digest="") & Q(reviewed_text_digest=F("text_digest"))
