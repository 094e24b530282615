"""What one visitor may see of their own comments before a moderator has.

The ids live in the visitor's session: stored on the server, reachable only
through the unguessable session cookie, so nobody can claim another reader's
pending comment by sending its id.
"""

from .models import Comment

SESSION_KEY = "comments_awaiting"
REMEMBERED = 20  # the newest few are plenty; older ones will have been moderated


def remember_comment(request, comment):
    ids = [pk for pk in request.session.get(SESSION_KEY, []) if pk != comment.pk]
    request.session[SESSION_KEY] = [*ids, comment.pk][-REMEMBERED:]


def awaiting_moderation(request, article):
    """The visitor's own comments on `article` that a moderator has not yet approved.

    Spam shows here too, to its author only: a spammer learns nothing, and a
    reader caught by a word list sees what a moderator will look at.
    """
    session = getattr(request, "session", None)
    # A visitor without a session cookie costs no query.
    ids = session.get(SESSION_KEY) if session is not None and session.session_key else None
    if not ids:
        return []
    return list(
        Comment.objects.public_fields()
        .filter(
            pk__in=ids,
            article=article,
            status__in=[Comment.Status.PENDING, Comment.Status.SPAM],
        )
        .order_by("created_at", "id")
    )
