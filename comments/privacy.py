"""A commenter's personal data: export it, erase it, and forget old addresses."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from . import subscriptions
from .models import Comment
from .text import comment_html

ANONYMOUS = "Anonymous"
REMOVED_BODY = "(Removed at the commenter’s request.)"


def comments_by(email):
    """Every comment left with `email`, in any capitalisation."""
    return Comment.objects.filter(email__iexact=email.strip())


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


def erase_commenter(email, remove_bodies=False):
    """Remove the commenter's personal data from their comments; returns how many."""
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
    comments = list(comments_by(email))
    for comment in comments:
        for field, value in changes.items():
            setattr(comment, field, value)
        comment.html = comment_html(comment)
    Comment.objects.bulk_update(comments, [*changes, "html"], batch_size=500)
    # The subscription goes too (emails still queued find no address and are skipped).
    subscriptions.forget(email)
    return len(comments)


def purge_ips(days, now=None):
    """Clear the IP address and user agent of comments older than `days`; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=days)
    return (
        Comment.objects.filter(created_at__lt=cutoff)
        .filter(Q(ip_address__isnull=False) | ~Q(user_agent=""))
        .update(ip_address=None, user_agent="")
    )
