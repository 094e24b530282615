"""Indexes for the moderation queue's text search (comments/queue_scale.py).

PostgreSQL: pg_trgm GIN indexes on UPPER(name), UPPER(body) and UPPER(email),
the expressions Django's admin search compares (`icontains` is
`UPPER(col::text) LIKE UPPER('%term%')`), so the stock search is served by
them as it is. SQLite: an FTS5 table with the trigram tokenizer over the same
three columns (site_project/sqlite_fts.py), which answers LIKE '%term%' for
terms of three characters or more; `detail=none` keeps it small (about
20 MB for 120,000 comments; positions would add 90 MB).

Neither is in Django's model state (a GIN index with an operator class
cannot be created on SQLite), so `makemigrations` sees nothing on either
database.
"""

from django.db import migrations

from site_project import sqlite_fts

SQLITE_INDEX = sqlite_fts.FtsIndex(
    table="comments_comment_fts",
    content="comments_comment",
    columns=("name", "body", "email"),
    options="tokenize='trigram', detail='none', columnsize=0",
)
POSTGRES_COLUMNS = ("name", "body", "email")


def create_indexes(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        # What django.contrib.postgres's TrigramExtension does; not imported,
        # because that module needs psycopg, which a SQLite site may not have.
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in POSTGRES_COLUMNS:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS comments_comment_{column}_trgm "
                f"ON comments_comment USING gin (UPPER({column}) gin_trgm_ops)"
            )
    elif connection.vendor == "sqlite":
        sqlite_fts.install(connection, SQLITE_INDEX)


def drop_indexes(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        for column in POSTGRES_COLUMNS:
            schema_editor.execute(f"DROP INDEX IF EXISTS comments_comment_{column}_trgm")
    elif connection.vendor == "sqlite":
        sqlite_fts.uninstall(connection, SQLITE_INDEX)


class Migration(migrations.Migration):

    dependencies = [
        ("comments", "0007_scale_indexes"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes),
    ]
