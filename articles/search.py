"""Search over published articles: a full-text index on each database, ranked, bounded.

PostgreSQL: a weighted tsvector (title A, summary B, body C) stored in the
article row and kept by a trigger, with a GIN index (migration 0017; the
column is the database's alone, so Django never loads it with an article).
SQLite: an FTS5 index with the Porter stemmer (site_project/sqlite_fts.py),
ranked by bm25 with the same weights. Without FTS5 (a SQLite built without
it), a ranked `icontains` scan, and a warning in the log once per process.

A search costs two queries whatever the size of the site: the first reads
the ids and ranks of at most MAX_RESULTS + 1 matches, the most recently added
first, through the index; the second loads the page's ten articles (and, on
PostgreSQL, their highlighted excerpts). Ranking every match instead would
cost 45 ms at 20,000 articles when half of them match; so "1,000+ results"
are the best of the 1,000 newest matches.

Whatever a reader types is cleaned first (control characters out, length
capped), and reaches SQLite's MATCH only as quoted words, so no query can
make the database or the page fail. Excerpts are plain text: escaped here,
with only our own <mark> elements added.
"""

import html
import re
import unicodedata
from functools import cached_property

from django.db import connection
from django.db.models import Case, F, Func, IntegerField, Q, TextField, Value, When
from django.db.models.expressions import RawSQL
from django.utils.html import escape, format_html, strip_tags
from django.utils.safestring import mark_safe

from site_project import sqlite_fts

from .models import Article

MAX_QUERY_LENGTH = 200
MAX_TERMS = 10
MAX_RESULTS = 1000
EXCERPT_LENGTH = 240
SEARCH_CONFIG = "english"
# Private-use characters mark the highlights in PostgreSQL's headline; they
# are turned into <mark> only after the text around them has been escaped.
START, STOP = "\ue000", "\ue001"
_HIGHLIGHT = re.compile(f"{START}(.*?){STOP}", re.DOTALL)
_TERM = re.compile(r"\w+")
# The "#" permalink after each heading is page furniture, not text.
HEADING_PERMALINK = r'<a class="headerlink"[^>]*>[^<]*</a>'
# A title hit outranks a summary and a body hit together (fallback and bm25 alike).
TITLE_WEIGHT, SUMMARY_WEIGHT, BODY_WEIGHT = 4, 2, 1

# PostgreSQL: the stored vector and its index (articles/migrations/0017).
POSTGRES_VECTOR_COLUMN = "search_vector"
POSTGRES_VECTOR_INDEX = "articles_article_search_vector"
# SQLite: title, summary and body (the Markdown, as PostgreSQL's vector) in FTS5.
SQLITE_INDEX = sqlite_fts.FtsIndex(
    table="articles_article_fts",
    content="articles_article",
    columns=("title", "summary", "body"),
    options="tokenize='porter unicode61 remove_diacritics 2'",
)


def clean_query(raw):
    """The reader's query without control characters, spaces collapsed, at most 200 characters."""
    raw = (raw or "")[: MAX_QUERY_LENGTH * 4]
    text = "".join(" " if unicodedata.category(char)[0] == "C" else char for char in raw)
    return " ".join(text.split())[:MAX_QUERY_LENGTH].strip()


def search_terms(query):
    """The distinct words of a cleaned query, lower case, at most MAX_TERMS of them."""
    terms = []
    for word in _TERM.findall(query.lower()):
        if word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


class SearchResults:
    """Ranked matches for a Paginator: a bounded count, and the articles of any slice.

    `ranked` is a callable returning [(id, published_at, score)] of at most
    MAX_RESULTS + 1 matches, higher scores better; `load` returns the
    articles with the given ids.
    """

    def __init__(self, ranked, load):
        self._ranked = ranked
        self._load = load

    @cached_property
    def _ids(self):
        rows = self._ranked()
        self._capped = len(rows) > MAX_RESULTS
        # Best score first, then the newest, then the latest added.
        rows = sorted(rows[:MAX_RESULTS], key=lambda row: (row[2], row[1], row[0]), reverse=True)
        return [pk for pk, _, _ in rows]

    @property
    def capped(self):
        """Whether more than MAX_RESULTS articles match (only the newest of them are ranked)."""
        return self._ids is not None and self._capped

    def count(self):
        return len(self._ids)

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        ids = self._ids[index]
        if not isinstance(index, slice):
            return self._fetch([ids])[0]
        return self._fetch(ids)

    def _fetch(self, ids):
        if not ids:
            return []
        by_id = {article.pk: article for article in self._load(ids)}
        return [by_id[pk] for pk in ids if pk in by_id]


def search_articles(query):
    """Published articles matching `query`, best first; none for a query without words."""
    terms = search_terms(query)
    if not terms:
        return SearchResults(list, list)
    if connection.vendor == "postgresql":
        return _postgres_search(query)
    if sqlite_fts.is_installed(connection.alias, SQLITE_INDEX.table):
        return _sqlite_search(terms)
    return _fallback_search(terms)


def _page_of(ids):
    return Article.objects.filter(pk__in=ids).defer("body", "toc_html")


def _search_query(query):
    from django.contrib.postgres.search import SearchQuery

    return SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)


def postgres_ranked(query):
    """The ids, dates and ranks of the newest matches, through the GIN index (PostgreSQL)."""
    from django.contrib.postgres.search import SearchRank, SearchVectorField

    search_query = _search_query(query)
    vector = RawSQL(
        f'"{Article._meta.db_table}"."{POSTGRES_VECTOR_COLUMN}"',
        [],
        output_field=SearchVectorField(),
    )
    return (
        Article.objects.published()
        .annotate(vector=vector)
        .filter(vector=search_query)
        .annotate(rank=SearchRank(vector, search_query))
        .order_by("-pk")
        .values_list("pk", "published_at", "rank")[: MAX_RESULTS + 1]
    )


def _postgres_search(query):
    from django.contrib.postgres.search import SearchHeadline

    search_query = _search_query(query)

    # The headline is cut from the rendered body with its tags removed, so that
    # it is the text readers see, not Markdown or HTML source.
    def remove(expression, pattern):
        return Func(
            expression,
            Value(pattern),
            Value(" "),
            Value("g"),
            function="regexp_replace",
            output_field=TextField(),
        )

    body_text = remove(remove(F("body_html"), HEADING_PERMALINK), "<[^>]*>")

    def load(ids):
        return (
            _page_of(ids)
            .defer("body_html")
            .annotate(
                headline=SearchHeadline(
                    body_text,
                    search_query,
                    config=SEARCH_CONFIG,
                    start_sel=START,
                    stop_sel=STOP,
                    max_words=40,
                    min_words=20,
                    max_fragments=2,
                    fragment_delimiter=" … ",
                )
            )
        )

    return SearchResults(lambda: list(postgres_ranked(query)), load)


def sqlite_ranked(words):
    """SQL and parameters for the ids, dates and scores of the newest matches (SQLite FTS5)."""
    fts, table = SQLITE_INDEX.table, Article._meta.db_table
    published = Article.objects.published().query
    where, where_params = published.get_compiler(connection=connection).compile(published.where)
    # CROSS JOIN keeps the index the outer loop: SQLite would otherwise start
    # from the articles and run the full-text query once per article (seconds).
    # Rows come newest first from the index itself (rowid DESC), so only the
    # first MAX_RESULTS + 1 are ever ranked. bm25 is lower for better matches.
    sql = (
        f"SELECT {table}.id, {table}.published_at, "  # noqa: S608  (names are ours)
        f"-bm25({fts}, {TITLE_WEIGHT}.0, {SUMMARY_WEIGHT}.0, {BODY_WEIGHT}.0) "
        f"FROM {fts} CROSS JOIN {table} ON {table}.id = {fts}.rowid "
        f"WHERE {fts} MATCH %s AND {where} ORDER BY {fts}.rowid DESC LIMIT %s"
    )
    return sql, [sqlite_fts.match_phrases(words), *where_params, MAX_RESULTS + 1]


def _sqlite_search(terms):
    # Words only: a term of underscores would be an empty phrase.
    words = [term for term in terms if any(char.isalnum() for char in term)]
    if not words:
        return SearchResults(list, list)
    sql, params = sqlite_ranked(words)

    def ranked():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return SearchResults(ranked, _page_of)


def _fallback_search(terms):
    def hit(field, term, weight):
        return Case(
            When(**{f"{field}__icontains": term}, then=Value(weight)),
            default=Value(0),
            output_field=IntegerField(),
        )

    matches = Q()
    score = Value(0, output_field=IntegerField())
    for term in terms:
        matches &= Q(title__icontains=term) | Q(summary__icontains=term) | Q(body__icontains=term)
        score = (
            score
            + hit("title", term, TITLE_WEIGHT)
            + hit("summary", term, SUMMARY_WEIGHT)
            + hit("body", term, BODY_WEIGHT)
        )

    def ranked():
        return list(
            Article.objects.published()
            .filter(matches)
            .annotate(rank=score)
            .order_by("-pk")
            .values_list("pk", "published_at", "rank")[: MAX_RESULTS + 1]
        )

    return SearchResults(ranked, _page_of)


def highlight(text, terms):
    """`text` escaped, with each occurrence of a term wrapped in <mark>."""
    if not terms:
        return escape(text)
    pattern = re.compile(
        "(" + "|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True)) + ")",
        re.IGNORECASE,
    )
    parts = pattern.split(text)
    return mark_safe(
        "".join(
            format_html("<mark>{}</mark>", part) if index % 2 else escape(part)
            for index, part in enumerate(parts)
        )
    )


def _plain_text(body_html):
    text = strip_tags(re.sub(HEADING_PERMALINK, " ", body_html))
    return " ".join(html.unescape(text).split())


def _window(text, terms):
    """About EXCERPT_LENGTH characters of `text` around the first term, or None."""
    lowered = text.lower()
    positions = [position for position in map(lowered.find, terms) if position >= 0]
    if not positions:
        return None
    start = max(0, min(positions) - EXCERPT_LENGTH // 3)
    if start:
        start = text.find(" ", start) + 1 or start
    end = min(len(text), start + EXCERPT_LENGTH)
    if end < len(text) and text.rfind(" ", start, end) > start:
        end = text.rfind(" ", start, end)
    return ("… " if start else "") + text[start:end].strip() + (" …" if end < len(text) else "")


def _repair_entity_edges(text):
    """A headline cut inside "&rsquo;" leaves "rsquo;" or "&rsquo": make those characters again."""

    def entity(name):
        decoded = html.unescape(f"&{name};")
        return decoded if decoded != f"&{name};" else None

    head = re.match(r"\s*(#?\w{2,10});", text)
    if head and entity(head.group(1)):
        text = entity(head.group(1)) + text[head.end() :]
    tail = re.search(r"&(#?\w{2,10})\s*$", text)
    if tail and entity(tail.group(1)):
        text = text[: tail.start()] + entity(tail.group(1))
    return text


def _marked_headline(headline):
    """PostgreSQL's headline as safe HTML: escaped text, our <mark> around the matches."""
    text = " ".join(html.unescape(_repair_entity_edges(headline)).split())
    parts = _HIGHLIGHT.split(text)
    pieces = []
    for index, part in enumerate(parts):
        part = escape(part.replace(START, "").replace(STOP, ""))
        pieces.append(f"<mark>{part}</mark>" if index % 2 else part)
    return mark_safe("".join(pieces))


def excerpt(article, terms):
    """A short plain-text excerpt of a search result with the matches highlighted."""
    headline = getattr(article, "headline", None)
    if headline is not None:
        if START in headline:
            return _marked_headline(headline)
    elif "body_html" not in article.get_deferred_fields():
        window = _window(_plain_text(article.body_html), terms)
        if window:
            return highlight(window, terms)
    return highlight(article.summary, terms)
