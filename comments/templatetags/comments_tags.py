from django import template
from django.template.loader import render_to_string

from ..forms import LONGEST_ID, CommentForm
from ..models import Comment
from ..policy import comments_open
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
        "article": article,
        "comments_open": is_open,
        "cpage": query.get("cpage") or 1,
        "form": form,
        "awaiting": awaiting_moderation(request, article) if request is not None else [],
    }


@register.simple_tag
def comment_thread(article, page_number, is_open):
    """The approved comments of one comment page: the same HTML for every visitor."""
    thread = thread_page(article, page_number, comments_open=is_open)
    return render_to_string(
        "comments/thread.html",
        {"article": article, "article_url": article.get_absolute_url(), "thread": thread},
    )


def comment_thread_fragment(article, request):
    """The thread of the page `request` asks for, as the article page cache re-renders it."""
    return comment_thread(article, request.GET.get("cpage") or 1, comments_open(article))


@register.filter
def comment_text(body):
    """A reader's text as safe HTML: escaped, line breaks kept, links with rel=ugc."""
    return render_comment_text(body)


@register.simple_tag
def commenter(comment):
    """The commenter's name, linked to their website (never to their email)."""
    return commenter_html(comment.name, comment.website)


@register.simple_tag
def comment_count(article):
    """Approved comments on `article`: the figure comments/stats.py keeps on it, no query."""
    return article.comment_count


@register.simple_tag
def pending_comment_count():
    return Comment.objects.pending().count()


def _positive_int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= LONGEST_ID else None
