from django import template
from django.urls import reverse
from django.utils.html import format_html

from site_project.pagination import requested_page
from site_project.shared_pages import has_session

from ..forms import LONGEST_ID, CommentForm
from ..models import Comment
from ..policy import comments_open
from ..status_counts import status_counts
from ..text import commenter_html, render_comment_text
from ..threads import thread_page
from ..visitor import awaiting_moderation

register = template.Library()


@register.inclusion_tag("comments/block.html", takes_context=True)
def comments_block(context, article):
    """The comments under an article: the shared thread, then this visitor's part.

    After a refused post the bound form is in the context as `comment_form`
    (comments.views, comments.middleware), so the reader's text and the
    errors come back. Only a visitor with a session can have comments of
    their own waiting: they are shown in place (a reply under its parent).
    """
    request = context.get("request")
    query = request.GET if request is not None else {}
    is_open = comments_open(article)
    form = context.get("comment_form")
    if form is None and is_open:
        form = CommentForm(article, initial={"reply_to": _positive_int(query.get("replyto"))})
    own = (
        awaiting_moderation(request, article)
        if request is not None and has_session(request)
        else []
    )
    page_number = requested_page(request, "cpage") if request is not None else 1
    thread = thread_page(article, page_number, comments_open=is_open, own=own)
    return {
        "request": request,
        "article": article,
        "article_url": article.get_absolute_url(),
        "thread": thread,
        "comments_open": is_open,
        "form": form,
        "awaiting": thread.unplaced,
    }


@register.simple_tag
def comment_feed_link(article):
    """The <link rel="alternate"> of the article's comment feed, for its <head>."""
    return format_html(
        '<link rel="alternate" type="application/rss+xml" title="Comments on “{}” (RSS)" href="{}">',
        article.title,
        reverse("comments:feed", args=[article.slug]),
    )


@register.filter
def error_summary(form):
    """(field id, message) for each error of a bound form, in the order of the fields."""
    if form is None or not form.is_bound or not form.errors:
        return []
    first_field = f"#{form['body'].id_for_label}"
    items = [(first_field, message) for message in form.non_field_errors()]
    for name in [*form.fields, *form.errors]:
        if name in form.errors and name != "__all__" and name in form.fields:
            target = "#" + form[name].id_for_label if name != "reply_to" else first_field
            items.extend((target, message) for message in form.errors[name])
    seen, unique = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            unique.append(item)
    return unique


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
    # Kept a few seconds (comments/status_counts.py).
    return status_counts().get(Comment.Status.PENDING, 0)


def _positive_int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= LONGEST_ID else None
