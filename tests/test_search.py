"""/search/: published articles only, ranked, highlighted safely, calm with any query.

These run on SQLite (FTS5, and the LIKE fallback where FTS5 is missing) and,
in CI, on PostgreSQL (full-text search with a stored vector and a GIN index).
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from articles import search
from articles.models import Article
from articles.people import Person
from site_project import sqlite_fts

SEARCH = reverse("articles:search")


def results(response):
    return [article.title for article in response.context["results"]]


@pytest.mark.django_db
class TestFindingArticles:
    @pytest.mark.parametrize("field", ["title", "summary", "body"])
    def test_finds_a_word_in_the_title_summary_or_body(self, client, make_article, field):
        make_article(title="Something else")
        found = make_article(**{field: "All about the zebra"})

        response = client.get(SEARCH, {"q": "zebra"})

        assert response.status_code == 200
        assert results(response) == [found.title]

    @pytest.mark.parametrize("field", ["title", "summary", "body"])
    @pytest.mark.parametrize(
        "hidden",
        [
            {"status": Article.Status.DRAFT},
            {"published_at": timezone.now() + timedelta(days=2)},
        ],
        ids=["draft", "scheduled"],
    )
    def test_never_finds_drafts_or_scheduled_articles(self, client, make_article, field, hidden):
        make_article(**{"title": "Hidden one", field: "Hidden zebra secrets"}, **hidden)

        response = client.get(SEARCH, {"q": "zebra"})

        assert results(response) == []
        assertNotContains(response, "Hidden one")
        assertContains(response, "No articles match")

    def test_every_word_must_match(self, client, make_article):
        make_article(title="Zebra and giraffe")
        make_article(title="Zebra alone")
        assert results(client.get(SEARCH, {"q": "zebra giraffe"})) == ["Zebra and giraffe"]

    def test_a_title_match_ranks_above_a_body_match(self, client, make_article):
        in_body = make_article(
            title="Newer article", body="Mentions the zebra once.", published_at=timezone.now()
        )
        in_title = make_article(
            title="Zebra care",
            body="Nothing else.",
            published_at=timezone.now() - timedelta(days=30),
        )
        in_summary = make_article(
            title="Middle article",
            summary="A zebra in the summary.",
            published_at=timezone.now() - timedelta(days=10),
        )

        response = client.get(SEARCH, {"q": "zebra"})

        assert results(response) == [in_title.title, in_summary.title, in_body.title]

    def test_results_are_paginated_and_keep_the_query(self, client, make_article):
        for _ in range(12):
            make_article(body="A zebra appears.")

        first = client.get(SEARCH, {"q": "zebra"})
        second = client.get(SEARCH, {"q": "zebra", "page": 2})

        assert len(first.context["results"]) == 10
        assert len(second.context["results"]) == 2
        assertContains(first, "12 results for “zebra”")
        assertContains(first, 'href="?q=zebra&amp;page=2"')
        assert client.get(SEARCH, {"q": "zebra", "page": 9}).status_code == 404

    def test_like_wildcards_are_not_wildcards(self, client, make_article):
        make_article(title="Zebra")
        assert results(client.get(SEARCH, {"q": "zebr_"})) == []
        assert results(client.get(SEARCH, {"q": "%"})) == []


@pytest.mark.django_db
class TestHighlighting:
    def test_the_excerpt_marks_the_match_and_is_plain_text(self, client, make_article):
        make_article(
            title="Lips",
            body="## Care\n\nA **zebra** balm and `<img src=x onerror=alert(1)>` helps.",
        )

        response = client.get(SEARCH, {"q": "zebra"})

        [article] = response.context["results"]
        assert "<mark>zebra</mark>" in article.excerpt
        assert "&lt;img src=x onerror=alert(1)&gt;" in article.excerpt
        content = response.content.decode()
        assert "<img src=x" not in content
        assert "<strong>" not in article.excerpt
        assert "#" not in article.excerpt  # no heading permalinks, no Markdown

    def test_a_title_only_match_shows_the_summary(self, client, make_article):
        make_article(title="Zebra", summary="Stripes <and> more.", body="Nothing to see.")

        [article] = client.get(SEARCH, {"q": "zebra"}).context["results"]

        assert str(article.excerpt) == "Stripes &lt;and&gt; more."

    def test_the_query_is_echoed_escaped(self, client, article):
        response = client.get(SEARCH, {"q": '<script>alert("x")</script>'})

        assert response.status_code == 200
        content = response.content.decode()
        assert "<script>alert" not in content
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in content

    def test_highlight_escapes_the_text_around_the_marks(self):
        marked = search.highlight("<b>Zebra</b> & zebra", ["zebra"])
        assert marked == "&lt;b&gt;<mark>Zebra</mark>&lt;/b&gt; &amp; <mark>zebra</mark>"

    def test_a_database_headline_becomes_escaped_text_with_our_marks(self):
        headline = (
            f"rsquo;s cut {search.START}zebra{search.STOP} &amp; <b>bold</b> "
            f"{search.START}unbalanced &rsquo"
        )
        result = search.excerpt(SimpleNamespace(headline=headline, summary=""), ["zebra"])
        assert result == ("’s cut <mark>zebra</mark> &amp; &lt;b&gt;bold&lt;/b&gt; unbalanced ’")


HOSTILE_QUERIES = [
    pytest.param("", id="empty"),
    pytest.param("    ", id="spaces"),
    pytest.param("?!.,;:…—()[]{}<>", id="punctuation-only"),
    pytest.param("x" * 10_000, id="10000-chars"),
    pytest.param("zebra " * 2_000, id="10000-chars-of-words"),
    pytest.param("'; DROP TABLE articles_article; --", id="sql"),
    pytest.param("' OR '1'='1", id="sql-or"),
    pytest.param("\x00", id="nul"),
    pytest.param("zebra\x00care", id="nul-inside"),
    pytest.param("\x00" * 500, id="many-nuls"),
    pytest.param("\x1b[31m\x07\x08", id="control-characters"),
    pytest.param('"unbalanced quote', id="quote"),
    pytest.param("zebra & | ! ( ) : * <-> -", id="tsquery-operators"),
    pytest.param("-zebra", id="negation"),
    pytest.param("or", id="only-or"),
    pytest.param("the and of", id="stop-words"),
    pytest.param("%_\\", id="like-wildcards"),
    pytest.param("\u202egnp.exe", id="bidi-override"),
    pytest.param("🙂" * 3_000, id="emoji"),
    pytest.param("<script>alert(1)</script>", id="script"),
]


@pytest.mark.django_db
class TestHostileQueries:
    @pytest.mark.parametrize("query", HOSTILE_QUERIES)
    def test_any_query_gets_a_calm_page(self, client, make_article, query):
        make_article(title="Zebra care")

        response = client.get(SEARCH, {"q": query})

        assert response.status_code == 200
        assert len(response.context["query"]) <= search.MAX_QUERY_LENGTH
        assert "\x00" not in response.content.decode()
        assert "<script>alert" not in response.content.decode()
        assert Article.objects.count() == 1

    def test_undecodable_bytes_are_a_calm_page(self, client):
        assert client.get(SEARCH + "?q=%ED%A0%80%FF%00").status_code == 200

    def test_a_query_of_punctuation_only_finds_nothing_calmly(self, client, article):
        response = client.get(SEARCH, {"q": "?!..."})
        assertContains(response, "No articles match")
        assert results(response) == []

    def test_no_query_shows_just_the_form(self, client, article):
        response = client.get(SEARCH)
        assert response.status_code == 200
        assertContains(
            response,
            '<input type="search" id="search-q" name="q" value="" maxlength="200">',
            html=True,
        )
        assertNotContains(response, "No articles match")
        assertContains(response, '<meta name="robots" content="noindex, follow">', html=True)

    def test_a_long_query_still_finds_by_its_first_words(self, client, make_article):
        make_article(title="Zebra care")
        response = client.get(SEARCH, {"q": "zebra " + "x" * 10_000})
        assert response.context["query"].startswith("zebra x")
        # Every word must match, and "xxx…" matches nothing: a calm empty result.
        assert results(response) == []


@pytest.mark.parametrize(
    "raw, cleaned",
    [
        ("  zebra  ", "zebra"),
        ("zebra\x00care", "zebra care"),
        ("line\nbreak\ttab\r", "line break tab"),
        ("\u202eevil\u200b", "evil"),
        ("x" * 500, "x" * 200),
        (None, ""),
        ("", ""),
    ],
)
def test_clean_query(raw, cleaned):
    assert search.clean_query(raw) == cleaned


def test_search_terms_are_distinct_lower_case_words_and_capped():
    assert search.search_terms("Zebra zebra, ZEBRA! care") == ["zebra", "care"]
    assert len(search.search_terms(" ".join(f"w{n}" for n in range(50)))) == search.MAX_TERMS


@pytest.mark.django_db
def test_search_queries_do_not_grow_with_the_number_of_results(
    client, make_article, django_assert_max_num_queries
):
    def queries_for(total):
        while Article.objects.count() < total:
            make_article(body="The zebra again.")
        cache.clear()  # rendered from scratch, not from the micro-cache
        with django_assert_max_num_queries(3) as captured:  # with the footer's site pages
            assert client.get(SEARCH, {"q": "zebra"}).status_code == 200
        return len(captured)

    assert queries_for(3) == queries_for(60)


@pytest.fixture
def without_fts5(monkeypatch):
    """SQLite as if built without FTS5: search falls back to a ranked icontains scan."""
    monkeypatch.setattr(sqlite_fts, "is_installed", lambda alias, table: False)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, title",
    [
        ("treatments", "Treatment plans"),
        ("dosing", "Doses compared"),
        ("relapsed", "After a relapse"),
        pytest.param("rosacee", "Rosacée and acne", id="accents-on-sqlite"),
    ],
)
def test_full_text_search_finds_word_forms(client, make_article, query, title):
    if query == "rosacee" and connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's english configuration keeps accents (no unaccent dictionary)")
    make_article(title="Something else")
    make_article(title=title)
    assert results(client.get(SEARCH, {"q": query})) == [title]


@pytest.mark.django_db
def test_without_fts5_sqlite_falls_back_to_matching_text(client, make_article, without_fts5):
    if connection.vendor != "sqlite":
        pytest.skip("the fallback is SQLite's")
    make_article(title="Treatment plans")
    assert results(client.get(SEARCH, {"q": "treatments"})) == []  # text, not word forms
    assert results(client.get(SEARCH, {"q": "treatment pl"})) == ["Treatment plans"]
    assert results(client.get(SEARCH, {"q": "zebr_"})) == []


@pytest.mark.django_db
def test_a_missing_index_is_logged_once_and_searched_without_it(client, make_article, caplog):
    if connection.vendor != "sqlite":
        pytest.skip("FTS5 is SQLite's")
    sqlite_fts.is_installed.cache_clear()
    try:
        for _ in range(3):
            assert not sqlite_fts.is_installed(connection.alias, "no_such_fts")
    finally:
        sqlite_fts.is_installed.cache_clear()
    warnings = [r for r in caplog.records if "no_such_fts" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        '"zebra',
        'zebra"',
        '""',
        "NEAR(zebra care)",
        "zebra NEAR care",
        "zebra*",
        "*",
        "title:zebra",
        "{title summary}: zebra",
        "^zebra",
        "zebra AND",
        "OR zebra",
        "NOT",
        "zebra NOT care",
        "(zebra",
        "zebra + care",
        "-zebra",
        "_",
        "_ zebra",
        "a" * 199 + '"',
        " ".join(["NEAR(a b)"] * 40),
    ],
)
def test_full_text_syntax_in_a_query_is_only_words(client, make_article, query):
    make_article(title="Zebra care")
    response = client.get(SEARCH, {"q": query})
    assert response.status_code == 200
    assert response.context["results"] in ([], [Article.objects.get().title]) or results(
        response
    ) == ["Zebra care"]


@pytest.mark.django_db
def test_quoted_operator_words_are_searched_as_words(client, make_article):
    make_article(title="Near and far", body="Not an operator here.")
    make_article(title="Zebra care")
    if connection.vendor == "sqlite":
        # Every word must match, as words: "near" and "not" are not syntax.
        assert results(client.get(SEARCH, {"q": "NEAR far"})) == ["Near and far"]
        assert results(client.get(SEARCH, {"q": "NOT operator"})) == ["Near and far"]


@pytest.mark.django_db
def test_a_saved_or_deleted_article_is_found_or_not_at_once(client, make_article):
    article = make_article(title="Zebra care")
    article.title = "Giraffe care"
    article.save()
    assert results(client.get(SEARCH, {"q": "giraffe"})) == ["Giraffe care"]
    assert results(client.get(SEARCH, {"q": "zebra"})) == []
    Article.objects.filter(pk=article.pk).update(summary="Okapi notes")  # no signals, no save()
    assert results(client.get(SEARCH, {"q": "okapi"})) == ["Giraffe care"]
    article.delete()
    cache.clear()  # the same address again: rendered afresh, not from the micro-cache
    assert results(client.get(SEARCH, {"q": "giraffe"})) == []


@pytest.mark.django_db
def test_more_than_1000_matches_are_counted_as_1000_plus(client, make_article, monkeypatch):
    monkeypatch.setattr(search, "MAX_RESULTS", 4)
    for n in range(6):
        make_article(title=f"Zebra {n}")
    response = client.get(SEARCH, {"q": "zebra"})
    assertContains(response, "4+ results for “zebra”")
    assert len(response.context["results"]) == 4
    assert client.get(SEARCH, {"q": "zebra", "page": 2}).status_code == 404
    monkeypatch.setattr(search, "MAX_RESULTS", 6)
    cache.clear()
    assertContains(client.get(SEARCH, {"q": "zebra"}), "6 results for “zebra”")


def _many_articles(total, special_title):
    """`total` published articles in one insert; one of them has a word nobody else uses."""
    now = timezone.now()
    team = Person.objects.editorial_team()
    Article.objects.bulk_create(
        Article(
            author=team,
            title=special_title if n == 0 else f"Common article {n}",
            slug=f"bulk-{n}",
            summary="A summary.",
            body="Plain words about skin care, again and again.",
            status=Article.Status.PUBLISHED,
            published_at=now - timedelta(hours=n + 1),
        )
        for n in range(total)
    )


@pytest.mark.django_db
def test_postgresql_search_reads_the_gin_index(client):
    if connection.vendor != "postgresql":
        pytest.skip("the GIN index is PostgreSQL's; SQLite's FTS5 plan is tested below")
    _many_articles(3000, "Okapi habits")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE articles_article")
    plan = search.postgres_ranked("okapi").explain()
    assert search.POSTGRES_VECTOR_INDEX in plan, plan
    assert results(client.get(SEARCH, {"q": "okapi"})) == ["Okapi habits"]


@pytest.mark.django_db
def test_sqlite_search_reads_the_fts5_index(client):
    if connection.vendor != "sqlite":
        pytest.skip("FTS5 is SQLite's; PostgreSQL's GIN plan is tested above")
    _many_articles(300, "Okapi habits")
    sql, params = search.sqlite_ranked(["okapi"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " | ".join(row[-1] for row in cursor.fetchall())
    # The full-text index drives, and each match is one primary-key lookup.
    assert plan.startswith(f"SCAN {search.SQLITE_INDEX.table} VIRTUAL TABLE INDEX"), plan
    assert "USING INTEGER PRIMARY KEY" in plan, plan
    assert results(client.get(SEARCH, {"q": "okapi"})) == ["Okapi habits"]


@pytest.mark.skipif(
    "sqlite" not in settings.DATABASES["default"]["ENGINE"],
    reason="SQLite rebuilds tables for some schema changes; PostgreSQL does not",
)
@pytest.mark.django_db(transaction=True)
def test_sqlite_index_survives_a_table_rebuild(client):
    """A migration that rebuilds the table drops its triggers; migrate puts them back."""
    from django.core.management import call_command

    from articles.models import Article as Model

    with connection.schema_editor() as editor:
        editor._remake_table(Model)  # what AddField with a default does on SQLite
    Article.objects.create(
        title="Okapi after the rebuild", slug="okapi", summary="s", body="b",
        status=Article.Status.PUBLISHED, published_at=timezone.now() - timedelta(hours=1),
    )  # fmt: skip
    call_command("migrate", verbosity=0)  # post_migrate repairs the index
    assert results(client.get(SEARCH, {"q": "okapi"})) == ["Okapi after the rebuild"]
    cache.clear()
    Article.objects.create(
        title="Okapi once repaired", slug="okapi-2", summary="s", body="b",
        status=Article.Status.PUBLISHED, published_at=timezone.now() - timedelta(hours=2),
    )  # fmt: skip
    assert sorted(results(client.get(SEARCH, {"q": "okapi"}))) == [
        "Okapi after the rebuild",
        "Okapi once repaired",
    ]


@pytest.mark.django_db
def test_an_index_this_sqlite_cannot_build_is_skipped_with_a_warning(caplog):
    if connection.vendor != "sqlite":
        pytest.skip("FTS5 is SQLite's")
    index = sqlite_fts.FtsIndex(
        table="nope_fts", content="articles_article", columns=("title",),
        options="tokenize='no_such_tokenizer'",
    )  # fmt: skip
    assert sqlite_fts.install(connection, index) is False
    assert "nope_fts not created" in caplog.text
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name LIKE 'nope_fts%'")
        assert cursor.fetchone()[0] == 0
