"""What keeps the moderation queue's cost flat with 100,000 comments and 20,000 articles.

- Status counts: kept briefly (comments/status_counts.py). The list's own
  count stays exact: a stale one would cut or overrun its last page.
- The article filter: a title search showing at most ten articles, instead
  of a link for every article (20,000 links, 1.6 MB, 0.8 s).
- Text search: PostgreSQL serves Django's own `icontains` search from pg_trgm
  indexes (comments/migrations/0008). On SQLite an FTS5 trigram index
  narrows the comments to those containing each term of three characters or
  more, and Django's search then runs on those alone, so what is found is
  exactly what the plain search finds.
"""

import logging

from django.contrib import admin
from django.db import connection
from django.db.models import BooleanField, F, Func
from django.db.models.expressions import RawSQL
from django.db.models.lookups import Exact
from django.utils.text import smart_split, unescape_string_literal

from articles.models import Article
from site_project import sqlite_fts

from .models import Comment

log = logging.getLogger(__name__)

ALL = "all"

SQLITE_INDEX = sqlite_fts.FtsIndex(
    table="comments_comment_fts",
    content="comments_comment",
    columns=("name", "body", "email"),
    options="tokenize='trigram', detail='none', columnsize=0",
)
TRIGRAM = 3  # the shortest term a trigram index can find
MAX_NARROWING_TERMS = 5


def requested_status(value):
    """The status a queue view shows: one of Comment.Status, or ALL; pending unless asked."""
    return value if value in {*Comment.Status.values, ALL} else Comment.Status.PENDING


class Likely(Func):
    """A condition SQLite's planner is told holds for most rows (`likelihood()`); as is elsewhere.

    Without statistics (Django never runs ANALYZE) SQLite takes `status =
    'pending'` for a rare value, so a search walked all 100,000 pending
    comments through the status index, testing each against the search's
    matches (140 ms), instead of reading those matches by id (20 ms). The
    plain queue still reads the status index.
    """

    function = "likelihood"
    # SQLite wants the probability as a literal, not a parameter.
    template = "%(function)s(%(expressions)s, 0.9)"
    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, **extra_context)


def with_status(queryset, status):
    """`queryset` narrowed to one moderation status (or not, for ALL)."""
    if status == ALL:
        return queryset
    return queryset.filter(Likely(Exact(F("status"), status)))


class ArticleFilter(admin.ListFilter):
    """By article: find articles by title (ten at most), rather than list all 20,000."""

    title = "article"
    parameter_name = "article"
    search_parameter = "article_title"
    template = "admin/comments/article_filter.html"
    shown = 10

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        for name in self.expected_parameters():
            values = params.pop(name, None)
            if values:
                self.used_parameters[name] = values[-1]
        value = self.used_parameters.get(self.parameter_name, "")
        # Beyond 18 digits, no such article (and no integer overflow in the query).
        self.article_id = int(value) if value.isdecimal() and len(value) < 19 else None
        self.title_query = " ".join(self.used_parameters.get(self.search_parameter, "").split())
        self.title_query = self.title_query[:100]

    def expected_parameters(self):
        return [self.parameter_name, self.search_parameter]

    def has_output(self):
        return True

    def queryset(self, request, queryset):
        if self.article_id is not None:
            return queryset.filter(article_id=self.article_id)
        return queryset

    def choices(self, changelist):
        both = self.expected_parameters()
        # What the title search form sends back along with the title: the rest of the view.
        self.kept_parameters = [
            (name, value) for name, value in changelist.params.items() if name not in both
        ]
        yield {
            "selected": self.article_id is None,
            "query_string": changelist.get_query_string(remove=both),
            "display": "All articles",
        }
        if self.article_id is not None:
            title = Article.objects.filter(pk=self.article_id).values_list("title", flat=True)
            yield {
                "selected": True,
                "query_string": changelist.get_query_string(remove=[self.search_parameter]),
                "display": title.first() or "(no such article)",
            }
        if self.title_query:
            found = (
                Article.objects.filter(title__icontains=self.title_query)
                .exclude(pk=self.article_id)
                .order_by("-published_at", "-pk")
                .values_list("pk", "title")[: self.shown]
            )
            for pk, title in found:
                yield {
                    "selected": False,
                    "query_string": changelist.get_query_string(
                        {self.parameter_name: pk}, remove=[self.search_parameter]
                    ),
                    "display": title,
                }


def _terms(search_term):
    for bit in smart_split(search_term):
        if bit.startswith(('"', "'")) and bit[0] == bit[-1]:
            bit = unescape_string_literal(bit)
        yield bit


def narrow_search(queryset, search_term, fields):
    """On SQLite, only the comments whose `fields` contain each long-enough term (FTS5 trigram).

    A superset is fine: Django's own search runs afterwards on what is left.
    """
    if connection.vendor != "sqlite" or not set(fields) <= set(SQLITE_INDEX.columns):
        return queryset  # a field the index lacks (or a lookup prefix): no narrowing
    if not sqlite_fts.is_installed(connection.alias, SQLITE_INDEX.table):
        return queryset
    fts = SQLITE_INDEX.table
    long_terms = [term for term in _terms(search_term) if len(term) >= TRIGRAM]
    for term in long_terms[:MAX_NARROWING_TERMS]:
        # One LIKE per column: FTS5 answers a LIKE on one column from the index,
        # but scans for an OR of several.
        sql = " UNION ".join(f"SELECT rowid FROM {fts} WHERE {field} LIKE %s" for field in fields)  # noqa: S608
        queryset = queryset.filter(pk__in=RawSQL(sql, [f"%{term}%"] * len(fields)))
    return queryset
