"""Telling moderators that a comment waits for them."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
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
    """Email the moderators about a held comment; never raises.

    Runs after the comment is committed (transaction.on_commit), so a mail
    server that is down costs an email, not the comment.
    """
    try:
        recipients = moderator_emails()
        if not recipients:
            logger.warning("Comment %s is held but no moderator has an email address.", comment.pk)
            return
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
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:
        logger.exception("Could not notify moderators about comment %s.", comment.pk)
