"""A page of approved comment threads, flattened for one template loop.

One query whatever the number of comments: the counts together with the
page of top-level comments and every approved reply in those threads (found
by `thread_id`, the top-level comment each reply belongs to). Each
comment's byline and text were rendered when it was saved, so the loop only
joins strings.

The counts are read with the page rather than kept on the article: a kept
figure raced between moderators approving at the same moment, and the
public page is micro-cached (site_project/shared_pages.py), so counting
costs one indexed query per render, not per reader.
"""

from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db import connection
from django.utils.html import escape
from django.utils.safestring import mark_safe

from site_project.pagination import check_in_range

from . import conf
from .models import Comment


@dataclass(frozen=True)
class ThreadComment:
    """The little a thread shows of a comment: never its email, IP or user agent."""

    pk: int
    parent_id: int | None
    name: str
    html: str  # byline, date and text, rendered when the comment was saved
    # The visitor's own comment, not yet approved: shown to them alone, in place.
    pending: bool = False


@dataclass
class ThreadItem:
    """One comment in display order, with what the template needs to nest it."""

    comment: ThreadComment
    depth: int
    has_replies: bool
    can_reply: bool
    # How many nested reply lists end after this comment.
    closes: int = 0

    def html(self, reply_url):
        """The comment's list item; `reply_url` is the page URL a reply link adds to."""
        comment = self.comment
        reply = (
            f'\n    <p class="comment-reply"><a href="{reply_url}replyto={comment.pk}#respond"'
            f' aria-label="Reply to {escape(comment.name)}">Reply</a></p>'
            if self.can_reply and not comment.pending
            else ""
        )
        if comment.pending:
            reply = PENDING_NOTE
        end = '<ol class="comment-replies">' if self.has_replies else "</li>"
        css = "comment comment-pending" if comment.pending else "comment"
        return (
            f'<li class="{css}" id="comment-{comment.pk}">\n'
            f'  <article aria-labelledby="comment-{comment.pk}-by">\n    {comment.html}{reply}\n'
            f"  </article>\n{end}{'</ol></li>' * self.closes}\n"
        )


PENDING_NOTE = (
    '\n    <p class="comment-pending-note"><strong>Your comment is awaiting moderation.</strong>'
    " Only you can see it until a moderator approves it.</p>"
)


@dataclass
class ThreadPage:
    items: list
    page: Page
    total: int  # approved comments on the article, replies included
    reply_url: str = ""
    # The visitor's own pending comments that have no place on this page.
    unplaced: list = field(default_factory=list)

    @property
    def html(self):
        """Every comment of the page as nested list items, in one join."""
        return mark_safe("".join(item.html(self.reply_url) for item in self.items))


_TABLE = Comment._meta.db_table
# Plain SQL, one query for a whole comment page and the counts it needs: the
# approved comments and top-level comments of the article (each counted from
# an index alone), the page's top-level comments (a LIMIT/OFFSET walk of the
# partial index of top-level comments, comment_thread_roots_idx), then the
# approved replies in those threads (the thread_id index), joined with UNION
# ALL. An `id IN (page) OR thread_id IN (page)` over the article's comments
# could use no index: the last of 281 pages cost 30 ms against 1 ms for the
# first (issue 15). The counts come on every row, and alone on a row of
# NULLs when the page has no comments.
_PAGE_SQL = f"""
    WITH counts AS (
        SELECT (SELECT COUNT(*) FROM {_TABLE} WHERE article_id = %s AND status = %s) AS total,
               (SELECT COUNT(*) FROM {_TABLE}
                WHERE article_id = %s AND status = %s AND parent_id IS NULL) AS threads
    ),
    roots AS (
        SELECT id FROM {_TABLE}
        WHERE article_id = %s AND status = %s AND parent_id IS NULL
        ORDER BY created_at, id LIMIT %s OFFSET %s
    ),
    page AS (
        SELECT id, parent_id, name, html, created_at FROM {_TABLE}
        WHERE id IN (SELECT id FROM roots)
        UNION ALL
        SELECT id, parent_id, name, html, created_at FROM {_TABLE}
        WHERE thread_id IN (SELECT id FROM roots) AND status = %s
    )
    SELECT counts.total, counts.threads, page.id, page.parent_id, page.name, page.html
    FROM counts LEFT JOIN page ON 1 = 1
    ORDER BY page.created_at, page.id
"""  # noqa: S608  (table name from our own model, values as parameters)


def page_query_params(article_id, page_number, per_page):
    approved = Comment.Status.APPROVED.value
    offset = (page_number - 1) * per_page
    # The counts, the thread count and the roots each filter by article and status.
    return [article_id, approved] * 3 + [per_page, offset, approved]


def _read_page(article, page_number, per_page):
    """(approved comments, approved top-level comments, the page's comments): one query."""
    with connection.cursor() as cursor:
        cursor.execute(_PAGE_SQL, page_query_params(article.pk, page_number, per_page))
        rows = cursor.fetchall()
    total, threads = rows[0][:2]
    comments = [ThreadComment(*row[2:]) for row in rows if row[2] is not None]
    return total, threads, comments


def thread_page(article, page_number=1, comments_open=True, own=()):
    """The approved comments of `article` for comment page `page_number`; Http404 past the last.

    `own` are the visitor's own comments awaiting moderation (comments with
    pk, parent_id, name and html): each reply goes under its parent if that is
    on this page, a new comment at the end of the last page; the rest are
    returned as `unplaced`.
    """
    per_page = conf.per_page()
    total, threads, comments = _read_page(article, page_number, per_page)
    # Paginated by count alone: the query picked the page's threads itself.
    paginator = Paginator(range(threads), per_page)
    page = paginator.page(check_in_range(page_number, paginator.num_pages))
    root_list = [c for c in comments if c.parent_id is None]
    replies = [c for c in comments if c.parent_id is not None]
    shown, unplaced = {c.pk for c in comments}, []
    for mine in own:
        pending = ThreadComment(mine.pk, mine.parent_id, mine.name, mine.html, pending=True)
        if mine.parent_id is None and not page.has_next():
            root_list.append(pending)
        elif mine.parent_id in shown:
            replies.append(pending)
        else:
            unplaced.append(mine)
    items = flatten(root_list, replies, conf.max_depth() if comments_open else 0)
    reply_url = article.get_absolute_url() + (
        f"?cpage={page.number}&amp;" if page.number > 1 else "?"
    )
    return ThreadPage(items=items, page=page, total=total, reply_url=reply_url, unplaced=unplaced)


def flatten(roots, replies, max_depth):
    """Depth-first order of `roots` and their `replies`; replies to hidden comments are left out."""
    children = {}
    for reply in replies:
        children.setdefault(reply.parent_id, []).append(reply)
    items = []
    stack = [(root, 0) for root in reversed(roots)]
    while stack:
        comment, depth = stack.pop()
        kids = children.get(comment.pk, [])
        items.append(
            ThreadItem(
                comment=comment,
                depth=depth,
                has_replies=bool(kids),
                can_reply=depth + 1 < max_depth,
            )
        )
        stack.extend((kid, depth + 1) for kid in reversed(kids))
    for index, item in enumerate(items):
        next_depth = items[index + 1].depth if index + 1 < len(items) else 0
        item.closes = max(0, item.depth - next_depth)
    return items
