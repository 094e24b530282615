"""Telling moderators that a comment waits for them."""

import logging
import threading

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string
from django.urls import reverse

from site_project.context_processors import site

logger = logging.getLogger("comments.notifications")

MODERATORS_GROUP = "Moderators"


def moderator_emails():
    """MODERATOR_EMAILS if set, else the active members of the Moderators group."""
    if settings.MODERATOR_EMAILS:
        return list(settings.MODERATOR_EMAILS)
    users = get_user_model().objects.filter(is_active=True, groups__name=MODERATORS_GROUP)
    return sorted(set(users.exclude(email="").values_list("email", flat=True)))


def notify_moderators(comment):
    """Email the moderators about a held comment, without making the reader wait; never raises.

    Runs after the comment is committed (transaction.on_commit), so a mail
    server that is down costs an email, not the comment. The message is built
    here, where the request's database connection is at hand; only the SMTP
    conversation runs in a daemon thread, because a slow mail server holds it
    for up to EMAIL_TIMEOUT (5 s) and the reader's confirmation must not wait
    for that. A thread rather than a task queue: the stack has no broker, and
    the worst a thread lost at shutdown costs is one email about a comment
    that is safely in the moderation queue anyway.
    """
    try:
        message = held_comment_message(comment)
    except Exception:
        logger.exception(
            "Could not notify moderators about comment %s.",
            comment.pk,
            extra={"event": "notification_failed", "comment_id": comment.pk},
        )
        return None
    if message is None:
        return None
    if not getattr(settings, "COMMENTS_NOTIFY_IN_BACKGROUND", True):
        send_notification(message, comment.pk)
        return None
    thread = threading.Thread(
        target=send_notification,
        args=(message, comment.pk),
        name=f"notify-moderators-{comment.pk}",
        daemon=True,
    )
    thread.start()
    return thread


def held_comment_message(comment):
    """The email about a held comment (its connection made now, from the current settings), or None."""
    recipients = moderator_emails()
    if not recipients:
        logger.warning("Comment %s is held but no moderator has an email address.", comment.pk)
        return None
    context = {
        **site(None),
        "comment": comment,
        "article": comment.article,
        "review_url": settings.SITE_URL
        + reverse("admin:comments_comment_change", args=[comment.pk]),
        "queue_url": settings.SITE_URL + reverse("admin:comments_comment_changelist"),
    }
    subject = " ".join(render_to_string("comments/email/held_subject.txt", context).split())
    body = render_to_string("comments/email/held_body.txt", context)
    return EmailMessage(
        subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        recipients,
        connection=get_connection(),
    )


def send_notification(message, comment_id):
    """Send `message`; a failure (server down, slow past EMAIL_TIMEOUT) is logged, never raised."""
    try:
        message.send()
    except Exception:
        logger.exception(
            "Could not notify moderators about comment %s.",
            comment_id,
            extra={"event": "notification_failed", "comment_id": comment_id},
        )
