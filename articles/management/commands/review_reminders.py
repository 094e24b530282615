"""Email each medical reviewer their list: reviews waiting, articles changed since their review, overdue.

For cron (e.g. every weekday at 08:00). Only people linked to an active
account in the Medical reviewers group, with an email address, are written
to, each about their own reviews; nobody else is ever emailed.

Sent here with Django's mail, not through the comments app's outbox: the
articles app may not import comments (DESIGN.md), and this command already
runs outside any request, so nothing waits on the mail server but the
command itself. A failure is reported and the command exits non-zero, so
cron mails its owner; the next run sends the whole list again.
"""

import logging

from django.core.mail import EmailMessage, get_connection
from django.core.management.base import BaseCommand, CommandError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Person
from articles.reviews import MedicalReview, covered_q
from articles.structured_data import absolute_url

log = logging.getLogger(__name__)


def reminder_for(person, today=None):
    """What waits for `person`: (requested reviews, articles changed since their review, overdue)."""
    today = today or timezone.localdate()
    requested = list(
        MedicalReview.objects.open()
        .filter(reviewer=person)
        .select_related("article")
        .order_by("requested_at")
    )
    asked = {review.article_id for review in requested}
    theirs = Article.objects.filter(
        medical=True, kind=Article.Kind.ARTICLE, last_review__reviewer=person
    ).exclude(pk__in=asked)
    changed = list(theirs.exclude(covered_q()).order_by("title"))
    overdue = list(
        theirs.filter(covered_q(), next_review_due__lt=today).order_by("next_review_due")
    )
    return requested, changed, overdue


def _subject(requested, changed, overdue):
    parts = []
    if requested:
        parts.append(f"{len(requested)} waiting for you")
    if changed:
        parts.append(f"{len(changed)} changed since your review")
    if overdue:
        parts.append(f"{len(overdue)} overdue")
    return "Medical reviews: " + ", ".join(parts)


class Command(BaseCommand):
    help = (
        "Email each medical reviewer the reviews waiting for them, the articles they reviewed "
        "that changed since, and those overdue for review. For cron."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="print who would get what; send nothing"
        )

    def handle(self, *args, dry_run=False, **options):
        reviewers = (
            Person.objects.medical_reviewers().exclude(user__email="").select_related("user")
        )
        sent, failed = 0, []
        connection = None if dry_run else get_connection()
        for person in reviewers:
            requested, changed, overdue = reminder_for(person)
            if not (requested or changed or overdue):
                continue
            message = self.message(person, requested, changed, overdue, connection)
            if dry_run:
                self.stdout.write(f"{person.name}: {message.subject}")
                continue
            try:
                message.send()
            except Exception:
                log.exception("review_reminder_failed", extra={"person_id": person.pk})
                failed.append(person.name)
            else:
                sent += 1
        if dry_run:
            return
        self.stdout.write(f"Sent {sent} reminder(s).")
        if failed:
            raise CommandError("Not sent (the next run tries again): " + ", ".join(failed))

    def message(self, person, requested, changed, overdue, connection):
        body = render_to_string(
            "articles/email/review_reminder.txt",
            {
                "person": person,
                "requested": [
                    (
                        review,
                        absolute_url(
                            reverse("admin:articles_medicalreview_review", args=[review.pk])
                        ),
                    )
                    for review in requested
                ],
                "changed": [
                    (
                        article,
                        absolute_url(reverse("admin:articles_article_change", args=[article.pk])),
                    )
                    for article in changed
                ],
                "overdue": [
                    (
                        article,
                        absolute_url(reverse("admin:articles_article_change", args=[article.pk])),
                    )
                    for article in overdue
                ],
                "queue_url": absolute_url(reverse("admin:articles_medicalreview_changelist")),
            },
        )
        return EmailMessage(
            subject=_subject(requested, changed, overdue),
            body=body,
            to=[person.user.email],
            connection=connection,
        )
