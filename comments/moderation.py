"""The one way a comment changes moderation state, used by the admin, commands and tests."""

import logging

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Comment
from .notifications import comments_published
from .status_counts import forget_status_counts

logger = logging.getLogger("comments.moderation")


@transaction.atomic
def moderate(comments, status, user):
    """Give `comments` the moderation `status`, recording who did it and when.

    `comments` is a queryset (updated with one UPDATE however many rows it
    matches, so "select all 3,000" is one query), a list of comments or one
    comment. Instances passed in are updated in place too. Returns the count.
    """
    status = Comment.Status(status)
    now = timezone.now()
    changes = {"status": status, "moderated_at": now, "moderated_by": user}
    instances = []
    if isinstance(comments, QuerySet):
        target = _updatable(comments)
    else:
        instances = [comments] if isinstance(comments, Comment) else list(comments)
        target = Comment.objects.filter(pk__in=[c.pk for c in instances])
    # Who is to hear that their comment (or a reply to it) is published: asked
    # before the UPDATE, which makes "newly approved" impossible to tell after.
    published = (
        list(
            target.exclude(status=Comment.Status.APPROVED)
            .filter(Q(notify=True) | Q(parent__notify=True))
            .values_list("pk", flat=True)
        )
        if status == Comment.Status.APPROVED
        else []
    )
    count = target.update(**changes)
    for comment in instances:
        for field, value in changes.items():
            setattr(comment, field, value)
    if published:
        comments_published(published)
    transaction.on_commit(forget_status_counts)  # the queue's counts, recounted on next view
    logger.info(
        "comments moderated action=%s count=%d moderator=%s",
        status.value,
        count,
        getattr(user, "pk", None),
        extra={"action": status.value, "count": count, "moderator_id": getattr(user, "pk", None)},
    )
    return count


def _updatable(queryset):
    # A sliced or DISTINCT queryset (admin search across relations) cannot be
    # updated directly; filtering on its primary keys keeps it one UPDATE.
    if queryset.query.is_sliced or queryset.query.distinct:
        return Comment.objects.filter(pk__in=queryset.values("pk"))
    return queryset.order_by()


def approve_comment(comments, user):
    return moderate(comments, Comment.Status.APPROVED, user)


def mark_spam(comments, user):
    return moderate(comments, Comment.Status.SPAM, user)


def reject_comment(comments, user):
    return moderate(comments, Comment.Status.REJECTED, user)
