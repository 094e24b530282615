"""A commenter's personal data: export it, erase it, and forget old addresses.

Each is one query however many comments match, inside one transaction: the
email is matched through the index on LOWER(email), old addresses through the
partial index of comments that still hold one (comments/models.py).
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils import timezone

from . import subscriptions
from .models import HOLDS_CONTACT_TRACES, Comment
from .text import html_with_new_byline

ANONYMOUS = "Anonymous"
REMOVED_BODY = "(Removed at the commenter’s request.)"


def comments_by(email):
    """Every comment left with `email`, in any capitalisation (the database folds both sides)."""
    return Comment.objects.alias(email_lower=Lower("email")).filter(
        email_lower=Lower(Value(email.strip()))
    )


def export_commenter(email):
    """The commenter's comments as JSON-ready dicts, oldest first."""
    return [
        {
            "id": c.pk,
            "article": {"title": c.article.title, "url": c.article.get_absolute_url()},
            "in_reply_to": c.parent_id,
            "name": c.name,
            "email": c.email,
            "website": c.website,
            "body": c.body,
            "status": c.status,
            "created_at": c.created_at.isoformat(),
            "moderated_at": c.moderated_at.isoformat() if c.moderated_at else None,
            "ip_address": c.ip_address,
            "user_agent": c.user_agent,
            "email_me_about_it": c.notify,
        }
        for c in comments_by(email).select_related("article").order_by("created_at", "id")
    ]


@transaction.atomic
def erase_commenter(email, remove_bodies=False):
    """Remove the commenter's personal data from their comments; returns how many.

    One UPDATE: the html readers see is rewritten in the same statement, from
    the stored html (its date) and the new byline and text. The subscription
    goes too (emails still queued find no address and are skipped).
    """
    changes = {
        "name": ANONYMOUS,
        "email": "",
        "website": "",
        "ip_address": None,
        "user_agent": "",
        "notify": False,
    }
    if remove_bodies:
        changes["body"] = REMOVED_BODY
    html = html_with_new_byline(ANONYMOUS, REMOVED_BODY if remove_bodies else None)
    count = comments_by(email).update(**changes, html=html)
    subscriptions.forget(email)
    return count


@transaction.atomic
def purge_ips(days, now=None):
    """Clear the IP address and user agent of comments older than `days`; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    return Comment.objects.filter(HOLDS_CONTACT_TRACES, created_at__lt=cutoff).update(
        ip_address=None, user_agent=""
    )
