"""What one visitor may see of their own comments before a moderator has.

The ids live in the visitor's session: stored on the server, reachable only
through the unguessable session cookie, so nobody can claim another reader's
pending comment by sending its id.
"""

from site_project.shared_pages import has_session

from .models import Comment

SESSION_KEY = "comments_awaiting"
REFUSED_KEY = "comments_refused_form"
REMEMBERED = 20  # the newest few are plenty; older ones will have been moderated
# What a refused form keeps for its one redisplay: the fields a reader fills in.
KEPT_FIELDS = ("body", "name", "email", "website", "reply_to", "notify", "honeypot")


def remember_comment(request, comment):
    ids = [pk for pk in request.session.get(SESSION_KEY, []) if pk != comment.pk]
    request.session[SESSION_KEY] = [*ids, comment.pk][-REMEMBERED:]


def own_comment_ids(request):
    """The ids of the comments this visitor's session posted (none without a session)."""
    if not has_session(request):
        return []
    return list(request.session.get(SESSION_KEY, []))


def keep_refused_form(request, article, data, extra_errors):
    """Keep a refused form in the session for the article page the reader is sent back to.

    Only in this reader's session (the page that shows it is theirs alone,
    never shared), and only until it is shown once.
    """
    request.session[REFUSED_KEY] = {
        "article": article.pk,
        "data": {name: data.get(name, "") for name in KEPT_FIELDS if name in data},
        "errors": extra_errors,
    }


def pop_refused_form(request, article):
    """The form kept by keep_refused_form for `article` ({data, errors}), removed; or None."""
    if not has_session(request) or REFUSED_KEY not in request.session:
        return None
    kept = request.session[REFUSED_KEY]
    if kept.get("article") != article.pk:
        return None
    del request.session[REFUSED_KEY]
    return kept


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
