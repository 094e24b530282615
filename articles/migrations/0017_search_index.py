"""A full-text index for /search/ on each database (articles/search.py).

PostgreSQL: a weighted tsvector column `search_vector` (title A, summary B,
body C) kept by a BEFORE INSERT/UPDATE trigger, with a GIN index. The column
belongs to the database alone, not to Django's model state: Django never
loads it with an article (it is several kilobytes for a long one) and never
writes it; search queries name it. A trigger rather than a generated column,
so that a later migration may still change the type of title or summary
(PostgreSQL refuses that for a column a generated column reads).

SQLite: an external-content FTS5 table kept by triggers
(site_project/sqlite_fts.py), with the Porter stemmer. Nothing is created
if FTS5 is missing; search then scans, and says so in the log.

Nothing here changes the model state, so `makemigrations` sees nothing on
either database.
"""

from django.db import migrations

from site_project import sqlite_fts

SQLITE_INDEX = sqlite_fts.FtsIndex(
    table="articles_article_fts",
    content="articles_article",
    columns=("title", "summary", "body"),
    options="tokenize='porter unicode61 remove_diacritics 2'",
)

VECTOR = """
    setweight(to_tsvector('english'::regconfig, coalesce({row}title, '')), 'A') ||
    setweight(to_tsvector('english'::regconfig, coalesce({row}summary, '')), 'B') ||
    setweight(to_tsvector('english'::regconfig, coalesce({row}body, '')), 'C')
"""

POSTGRES_FORWARD = [
    "ALTER TABLE articles_article ADD COLUMN search_vector tsvector",
    f"""
    CREATE FUNCTION articles_article_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_vector := {VECTOR.format(row="NEW.")};
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER articles_article_search_vector
    BEFORE INSERT OR UPDATE OF title, summary, body, search_vector ON articles_article
    FOR EACH ROW EXECUTE FUNCTION articles_article_search_vector()
    """,
    f"UPDATE articles_article SET search_vector = {VECTOR.format(row='')}",
    # Articles change seldom and are searched often: no pending list to scan.
    "CREATE INDEX articles_article_search_vector ON articles_article USING gin (search_vector) "
    "WITH (fastupdate = off)",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS articles_article_search_vector ON articles_article",
    "DROP FUNCTION IF EXISTS articles_article_search_vector()",
    "ALTER TABLE articles_article DROP COLUMN IF EXISTS search_vector",
]


def create_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        for sql in POSTGRES_FORWARD:
            schema_editor.execute(sql)
    elif connection.vendor == "sqlite":
        sqlite_fts.install(connection, SQLITE_INDEX)


def drop_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        for sql in POSTGRES_BACKWARD:
            schema_editor.execute(sql)
    elif connection.vendor == "sqlite":
        sqlite_fts.uninstall(connection, SQLITE_INDEX)


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0016_browse_figures"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
    ]
