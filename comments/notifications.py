"""Email about comments: to moderators when one is held, to commenters who asked to hear back.

Every email is first a `Notification` row, written in the transaction of the
change it reports (the outbox), then sent by a background task
(comments.tasks.send_notification, enqueued once the transaction commits).
Nothing is sent from a request thread, and nothing is lost:

- the task is idempotent: it claims the row for a few minutes with one
  UPDATE, sends, then sets `sent_at`; a second task for the same row (a
  retry, or one re-queued by `requeue_stranded`) finds it claimed or sent and
  does nothing;
- a failure (mail server down or hanging past EMAIL_TIMEOUT) is logged as
  `notification_failed` and retried with a growing delay, up to
  COMMENTS_MAIL_MAX_ATTEMPTS; after that the row is marked abandoned and an
  error logged;
- a worker that stops mid-task, or an enqueue that never happened, leaves the
  row unsent: `requeue_stranded()` (run when the worker starts, and by
  `manage.py requeue_mail`) queues it again.

The task carries only the row's id, so the task table holds no address.
"""

import logging
from datetime import timedelta
from functools import partial
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from site_project.context_processors import SITE_NAME

from . import subscriptions
from .models import Comment, Notification

logger = logging.getLogger("comments.notifications")

MODERATORS_GROUP = "Moderators"
CLAIM = timedelta(minutes=5)  # far longer than one send can take (EMAIL_TIMEOUT)
STALE = timedelta(minutes=10)  # an unsent row this overdue has lost its task
Kind = Notification.Kind


def max_attempts():
    return getattr(settings, "COMMENTS_MAIL_MAX_ATTEMPTS", 12)


def retry_delay(attempts):
    """Seconds before attempt `attempts + 1`: 1, 2, 4 … minutes, at most an hour apart."""
    base = getattr(settings, "COMMENTS_MAIL_RETRY_DELAY", 60)
    return min(base * 2 ** max(attempts - 1, 0), 3600)


def moderator_emails():
    """MODERATOR_EMAILS if set, else the active members of the Moderators group."""
    if settings.MODERATOR_EMAILS:
        return list(settings.MODERATOR_EMAILS)
    users = get_user_model().objects.filter(is_active=True, groups__name=MODERATORS_GROUP)
    return sorted(set(users.exclude(email="").values_list("email", flat=True)))


# Writing the outbox (inside the transaction of the change)


def notify(kind, comments):
    """Record one `kind` email about each of `comments` and send it once the transaction commits.

    A second call for the same event adds nothing (one row per kind and comment).
    """
    ids = [c if isinstance(c, int) else c.pk for c in comments]
    if not ids:
        return []
    Notification.objects.bulk_create(
        [Notification(kind=kind, comment_id=pk) for pk in ids], ignore_conflicts=True
    )
    pending = list(
        Notification.objects.filter(
            kind=kind, comment_id__in=ids, sent_at__isnull=True
        ).values_list("pk", flat=True)
    )
    transaction.on_commit(partial(enqueue, pending))
    return pending


def enqueue(notification_ids, run_after=None):
    """Queue a send task per notification; a queue that fails is logged (the sweep catches up)."""
    from .tasks import send_notification

    task = send_notification
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return  # e.g. the immediate backend: left for requeue_stranded
        task = task.using(run_after=run_after)
    for pk in notification_ids:
        try:
            task.enqueue(pk)
        except Exception:
            logger.exception(
                "Could not queue notification %s.",
                pk,
                extra={"event": "notification_enqueue_failed", "notification_id": pk},
            )


def held_for_moderation(comment):
    """A reader's comment waits for a moderator: tell the moderators."""
    notify(Kind.HELD, [comment])


def comment_posted(comment, ip_address):
    """After a reader's comment is saved: held → moderators; asked to hear back → confirmation."""
    if comment.status == Comment.Status.PENDING:
        held_for_moderation(comment)
    if (
        comment.notify
        and comment.status in (Comment.Status.PENDING, Comment.Status.APPROVED)
        and subscriptions.should_send_confirmation(comment.email, ip_address)
    ):
        notify(Kind.CONFIRM, [comment])
    if comment.status == Comment.Status.APPROVED:
        comments_published([comment.pk], author_told=False)


def comments_published(comment_ids, author_told=True):
    """These comments were just approved: tell their authors, and the authors of what they answer.

    Only authors who asked and whose address is confirmed; a constant number
    of queries, whatever the number of comments.
    """
    rows = list(
        Comment.objects.filter(pk__in=comment_ids)
        .filter(Q(notify=True) | Q(parent__notify=True))
        .values("pk", "notify", "email", "parent__notify", "parent__email")
    )
    if not rows:
        return
    addresses = {r["email"] for r in rows if r["notify"]} | {
        r["parent__email"] for r in rows if r["parent__notify"]
    }
    allowed = _emailable({a for a in addresses if a})
    approved, replies = [], []
    for row in rows:
        own = subscriptions.normalise_address(row["email"])
        parent = subscriptions.normalise_address(row["parent__email"])
        if author_told and row["notify"] and own in allowed:
            approved.append(row["pk"])
        if row["parent__notify"] and parent in allowed and parent != own:
            replies.append(row["pk"])
    notify(Kind.APPROVED, approved)
    notify(Kind.REPLY, replies)


def _emailable(addresses):
    """The normalised addresses among `addresses` that are confirmed and not unsubscribed."""
    from .models import Subscription

    by_hash = {subscriptions.address_hash(a): subscriptions.normalise_address(a) for a in addresses}
    confirmed = Subscription.objects.filter(
        address_hash__in=list(by_hash), confirmed_at__isnull=False, unsubscribed_at__isnull=True
    ).values_list("address_hash", flat=True)
    return {by_hash[h] for h in confirmed}


# Sending (in the worker)


def deliver(notification_id):
    """Send one notification, at most once; returns what happened ("sent", "skipped", …)."""
    now = timezone.now()
    claimed = (
        Notification.objects.filter(pk=notification_id, sent_at__isnull=True, outcome="")
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + CLAIM, attempts=F("attempts") + 1)
    )
    if not claimed:
        return "already handled"
    notification = Notification.objects.select_related("comment__article", "comment__parent").get(
        pk=notification_id
    )
    try:
        message = build_message(notification)
        if message is not None:
            message.send()
    except Exception as error:
        _failed(notification, error)
        raise
    outcome = "sent" if message is not None else "skipped"
    Notification.objects.filter(pk=notification.pk).update(
        sent_at=timezone.now(), outcome=outcome, claimed_until=None, last_error=""
    )
    return outcome


def _failed(notification, error):
    attempts = notification.attempts
    error_text = f"{type(error).__name__}: {error}"[:200]
    extra = {
        "event": "notification_failed",
        "notification_id": notification.pk,
        "comment_id": notification.comment_id,
        "kind": notification.kind,
        "attempt": attempts,
    }
    if attempts >= max_attempts():
        Notification.objects.filter(pk=notification.pk).update(
            outcome="abandoned", claimed_until=None, last_error=error_text
        )
        logger.error(
            "Gave up on the %s email about comment %s after %d attempts.",
            notification.kind,
            notification.comment_id,
            attempts,
            exc_info=error,
            extra={**extra, "event": "notification_abandoned"},
        )
        return
    retry_at = timezone.now() + timedelta(seconds=retry_delay(attempts))
    Notification.objects.filter(pk=notification.pk).update(
        next_attempt_at=retry_at, claimed_until=None, last_error=error_text
    )
    logger.error(
        "Could not send the %s email about comment %s (attempt %d); retrying at %s.",
        notification.kind,
        notification.comment_id,
        attempts,
        retry_at.isoformat(),
        exc_info=error,
        extra={**extra, "retry_at": retry_at.isoformat()},
    )
    enqueue([notification.pk], run_after=retry_at)


def requeue_stranded(now=None):
    """Queue again every unsent notification whose task was lost; returns how many."""
    now = now or timezone.now()
    stranded = Notification.objects.filter(
        outcome="", sent_at__isnull=True, next_attempt_at__lte=now - STALE
    ).filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    ids = list(stranded.values_list("pk", flat=True))
    if ids:
        # Pushed forward so that the next sweep leaves them to the tasks queued now.
        Notification.objects.filter(pk__in=ids).update(next_attempt_at=now)
        enqueue(ids)
        logger.info(
            "Re-queued %d unsent notification(s).",
            len(ids),
            extra={"event": "notifications_requeued", "count": len(ids)},
        )
    return len(ids)


# The messages


def absolute(path):
    return settings.SITE_URL + path


def queue_url(comment):
    """The moderation queue showing just this comment, with its one-click actions."""
    changelist = reverse("admin:comments_comment_changelist")
    return absolute(f"{changelist}?{urlencode({'status': 'all', 'id': comment.pk})}")


def build_message(notification):
    """The email for `notification` as things stand now, or None when nobody should get it."""
    builder = {
        Kind.HELD: _held_message,
        Kind.CONFIRM: _confirm_message,
        Kind.APPROVED: _approved_message,
        Kind.REPLY: _reply_message,
    }[notification.kind]
    message = builder(notification.comment)
    if message is not None:
        host = urlsplit(settings.SITE_URL).hostname or "localhost"
        # The same id on every attempt: a mail system that got a message twice can tell.
        message.extra_headers["Message-ID"] = (
            f"<comments.{notification.kind}.{notification.comment_id}.{notification.pk}@{host}>"
        )
        message.extra_headers.setdefault("Auto-Submitted", "auto-generated")
    return message


def _render(name, context):
    return render_to_string(f"comments/email/{name}", {"SITE_NAME": SITE_NAME, **context})


def _held_message(comment):
    recipients = moderator_emails()
    if not recipients:
        logger.warning("Comment %s is held but no moderator has an email address.", comment.pk)
        return None
    if comment.status != Comment.Status.PENDING:
        return None  # already moderated: nothing to ask of anyone
    context = {
        "comment": comment,
        "article": comment.article,
        "review_url": queue_url(comment),
        "change_url": absolute(reverse("admin:comments_comment_change", args=[comment.pk])),
        "queue_url": absolute(reverse("admin:comments_comment_changelist")),
    }
    subject = " ".join(_render("held_subject.txt", context).split())
    return EmailMessage(subject, _render("held_body.txt", context), to=recipients)


def _commenter_message(address, subject, template, context):
    """An email to one commenter, with the one-click unsubscribe of RFC 8058."""
    token = subscriptions.unsubscribe_token(address)
    unsubscribe_url = absolute(reverse("comments:unsubscribe", args=[token]))
    body = _render(template, {**context, "unsubscribe_url": unsubscribe_url})
    return EmailMessage(
        f"[{SITE_NAME}] {subject}",
        body,
        to=[address],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def _confirm_message(comment):
    subscription = subscriptions.subscription_for(comment.email)
    if subscription is None or subscription.confirmed_at or subscription.unsubscribed_at:
        return None  # erased, already confirmed, or the owner asked for no mail
    token = subscriptions.confirm_token(comment.email)
    return _commenter_message(
        comment.email,
        "Please confirm your email address",
        "confirm_body.txt",
        {
            "article": comment.article,
            "confirm_url": absolute(reverse("comments:confirm", args=[token])),
            "days": subscriptions.CONFIRM_LINK_AGE.days,
        },
    )


def _approved_message(comment):
    if not (
        comment.notify
        and comment.status == Comment.Status.APPROVED
        and subscriptions.may_email(comment.email)
    ):
        return None
    return _commenter_message(
        comment.email,
        f"Your comment on “{comment.article.title}” is published",
        "approved_body.txt",
        {
            "comment": comment,
            "article": comment.article,
            "url": absolute(comment.get_absolute_url()),
        },
    )


def _reply_message(reply):
    parent = reply.parent
    if (
        parent is None
        or reply.status != Comment.Status.APPROVED
        or not parent.notify
        or subscriptions.normalise_address(parent.email)
        == subscriptions.normalise_address(reply.email)
        or not subscriptions.may_email(parent.email)
    ):
        return None
    return _commenter_message(
        parent.email,
        f"{reply.name} replied to your comment on “{reply.article.title}”",
        "reply_body.txt",
        {
            "reply": reply,
            "parent": parent,
            "article": reply.article,
            "url": absolute(reply.get_absolute_url()),
        },
    )
