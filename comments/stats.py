"""The approved-comment figures kept on each article.

Article.comment_count and comment_thread_count spare the article page a
counting query; comments_version goes up with every change a reader could
see, so cached copies of the page (articles/page_cache.py) are never stale.
Every write that changes what is public calls refresh_articles().
"""

from django.db.models import Count, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from articles.models import Article
from articles.prerender import prerender_when_committed

from .models import Comment
from .text import comment_html


def refresh_articles(article_ids):
    """Recount approved comments of these articles and bump their version: one UPDATE.

    Their first pages are rendered again once this commits, so the first
    reader after a moderator's action is served at once.
    """
    article_ids = set(article_ids)
    prerender_when_committed(article_ids)
    approved = Comment.objects.approved().filter(article=OuterRef("pk")).order_by().values("article")
    total = approved.annotate(n=Count("pk")).values("n")
    threads = approved.filter(parent__isnull=True).annotate(n=Count("pk")).values("n")
    return Article.objects.filter(pk__in=article_ids).update(
        comment_count=Coalesce(Subquery(total), Value(0)),
        comment_thread_count=Coalesce(Subquery(threads), Value(0)),
        comments_version=F("comments_version") + 1,
    )


def after_bulk_create(comments):
    """Render the html and refresh the figures of comments saved with bulk_create (no save())."""
    comments = list(comments)
    for comment in comments:
        comment.html = comment_html(comment)
    Comment.objects.bulk_update(comments, ["html"], batch_size=500)
    refresh_articles({comment.article_id for comment in comments})


def comment_saved(sender, instance, created, **kwargs):
    # Only an approved comment is on the page: a pending one (a flood of spam,
    # say) must not invalidate the article's cached copies. Status changes go
    # through moderation.moderate(), which refreshes the figures itself.
    if instance.status == Comment.Status.APPROVED:
        refresh_articles([instance.article_id])
