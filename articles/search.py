"""Search over published articles: PostgreSQL full-text search, or a LIKE fallback on SQLite.

Whatever a reader types is cleaned first (control characters out, length
capped), so that no query can make the database or the page fail. Excerpts are
plain text: escaped here, with only our own <mark> elements added.
"""

import html
import re
import unicodedata

from django.db import connection
from django.db.models import Case, F, Func, IntegerField, Q, TextField, Value, When
from django.utils.html import escape, format_html, strip_tags
from django.utils.safestring import mark_safe

from .models import Article

MAX_QUERY_LENGTH = 200
MAX_TERMS = 10
EXCERPT_LENGTH = 240
SEARCH_CONFIG = "english"
# Private-use characters mark the highlights in PostgreSQL's headline; they
# are turned into <mark> only after the text around them has been escaped.
START, STOP = "\ue000", "\ue001"
_HIGHLIGHT = re.compile(f"{START}(.*?){STOP}", re.DOTALL)
_TERM = re.compile(r"\w+")
# The "#" permalink after each heading is page furniture, not text.
HEADING_PERMALINK = r'<a class="headerlink"[^>]*>[^<]*</a>'
# Fallback weights: a title hit outranks a summary and a body hit together.
TITLE_WEIGHT, SUMMARY_WEIGHT, BODY_WEIGHT = 4, 2, 1


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


def search_articles(query):
    """Published articles matching `query`, best first; none for a query without words."""
    terms = search_terms(query)
    if not terms:
        return Article.objects.none()
    articles = Article.objects.published().select_related("author").defer("body", "toc_html")
    if connection.vendor == "postgresql":
        return _full_text_search(articles, query)
    return _fallback_search(articles, terms)


def _full_text_search(articles, query):
    from django.contrib.postgres.search import (
        SearchHeadline,
        SearchQuery,
        SearchRank,
        SearchVector,
    )

    vector = (
        SearchVector("title", weight="A", config=SEARCH_CONFIG)
        + SearchVector("summary", weight="B", config=SEARCH_CONFIG)
        + SearchVector("body", weight="C", config=SEARCH_CONFIG)
    )
    search_query = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
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
    return (
        articles.defer("body_html")
        .annotate(
            search=vector,
            rank=SearchRank(vector, search_query),
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
            ),
        )
        .filter(search=search_query)
        .order_by("-rank", "-published_at", "-id")
    )


def _fallback_search(articles, terms):
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
    return articles.filter(matches).annotate(rank=score).order_by("-rank", "-published_at", "-id")


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
