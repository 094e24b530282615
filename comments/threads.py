"""A page of approved comment threads, flattened for one template loop.

Two queries whatever the number of comments: the counts, then one page of
top-level comments together with every approved reply in those threads
(found by `thread_id`, the top-level comment each reply belongs to).
"""

from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q
from django.utils.functional import cached_property

from . import conf
from .models import Comment


@dataclass
class ThreadItem:
    """One comment in display order, with what the template needs to nest it."""

    comment: Comment
    depth: int
    has_replies: bool
    can_reply: bool
    # How many nested reply lists end after this comment (range, for {% for %}).
    closes: range = field(default_factory=lambda: range(0))


@dataclass
class ThreadPage:
    items: list
    page: Page
    total: int  # approved comments on the article, replies included


class _CountedPaginator(Paginator):
    """A paginator told its count, which the totals query already fetched."""

    def __init__(self, object_list, per_page, count):
        self._known_count = count
        super().__init__(object_list, per_page)

    @cached_property
    def count(self):
        return self._known_count


def thread_page(article, page_number=1, comments_open=True):
    """The approved comments of `article` for comment page `page_number` (1 if invalid)."""
    approved = Comment.objects.approved().filter(article=article)
    totals = approved.aggregate(
        total=Count("id"), threads=Count("id", filter=Q(parent__isnull=True))
    )
    roots = approved.filter(parent__isnull=True).order_by("created_at", "id")
    page = _CountedPaginator(roots, conf.per_page(), totals["threads"]).get_page(page_number)
    comments = []
    if totals["threads"]:
        # The page's top-level comments and all their replies in one query: the
        # page of roots is a LIMIT/OFFSET subquery (fine on SQLite and PostgreSQL).
        page_roots = roots.values("pk")[page.start_index() - 1 : page.end_index()]
        comments = list(
            approved.filter(Q(pk__in=page_roots) | Q(thread_id__in=page_roots))
            .public_fields()
            .order_by("created_at", "id")
        )
    root_list = [c for c in comments if c.parent_id is None]
    replies = [c for c in comments if c.parent_id is not None]
    items = flatten(root_list, replies, conf.max_depth() if comments_open else 0)
    return ThreadPage(items=items, page=page, total=totals["total"])


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
        item.closes = range(max(0, item.depth - next_depth))
    return items
