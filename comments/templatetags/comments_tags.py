from django import template
from django.template.loader import render_to_string

from site_project.pagination import requested_page
from site_project.shared_pages import has_session

from ..forms import LONGEST_ID, CommentForm
from ..models import Comment
from ..policy import comments_open
from ..queue import status_counts
from ..text import commenter_html, render_comment_text
from ..threads import thread_page
from ..visitor import awaiting_moderation

register = template.Library()


@register.inclusion_tag("comments/block.html", takes_context=True)
def comments_block(context, article):
    """The comments under an article: the shared thread, then this visitor's part.

    After a refused post the view puts the bound form in the context as
    `comment_form`, so the reader's text and the errors come back.
    """
    request = context.get("request")
    query = request.GET if request is not None else {}
    is_open = comments_open(article)
    form = context.get("comment_form")
    if form is None and is_open:
        form = CommentForm(article, initial={"reply_to": _positive_int(query.get("replyto"))})
    return {
        "request": request,
        "article": article,
        "comments_open": is_open,
        "form": form,
        # Only a visitor with a session can have comments of their own waiting.
        "awaiting": (
            awaiting_moderation(request, article)
            if request is not None and has_session(request)
            else []
        ),
    }


@register.simple_tag(takes_context=True)
def comment_thread(context, article, is_open):
    """The approved comments of the comment page the query string asks for (`?cpage=`).

    The same HTML for every visitor; a malformed or past-the-end page is a 404.
    """
    request = context.get("request")
    page_number = requested_page(request, "cpage") if request is not None else 1
    thread = thread_page(article, page_number, comments_open=is_open)
    return render_to_string(
        "comments/thread.html",
        {"article": article, "article_url": article.get_absolute_url(), "thread": thread},
    )


@register.filter
def comment_text(body):
    """A reader's text as safe HTML: escaped, line breaks kept, links with rel=ugc."""
    return render_comment_text(body)


@register.simple_tag
def commenter(comment):
    """The commenter's name, linked to their website (never to their email)."""
    return commenter_html(comment.name, comment.website)


@register.simple_tag
def pending_comment_count():
    return status_counts().get(Comment.Status.PENDING, 0)  # kept a few seconds (comments/queue.py)


def _positive_int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= LONGEST_ID else None
