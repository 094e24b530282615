"""Comment counts for lists of articles: approved comments only, no query per article."""

from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from .models import Comment


def with_comment_counts(articles):
    """Annotate an Article queryset with `approved_comment_count`, in the same query."""
    counts = (
        Comment.objects.approved()
        .filter(article=OuterRef("pk"))
        .order_by()
        .values("article")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return articles.annotate(approved_comment_count=Coalesce(Subquery(counts), Value(0)))
