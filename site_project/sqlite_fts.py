"""SQLite full-text indexes (FTS5) kept in step with a table by triggers.

An "external content" FTS5 table stores only the index; the text stays in
the Django table it indexes, and three triggers on that table keep the index
in step with every insert, update and delete, whoever makes it (the ORM,
bulk_create, a queryset update, raw SQL). Only SQLite has them: migrations
call install() only when the connection is SQLite, and PostgreSQL uses its
own full-text and trigram indexes instead.

Django rebuilds a SQLite table for some schema changes (a new field with a
default, for example): it copies the rows into a new table and drops the old
one, and SQLite drops a table's triggers with it. repair() therefore runs
after every `migrate` (post_migrate, connected in site_project.apps): it puts
back the triggers of any installed index that lost them and rebuilds that
index from its table.
"""

import logging
from dataclasses import dataclass
from functools import cache

from django.db import DatabaseError, connections, transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FtsIndex:
    """An FTS5 index named `table` over `columns` of the Django table `content`."""

    table: str
    content: str
    columns: tuple
    options: str  # tokenize=…, detail=…

    def _values(self, row):
        return ", ".join(f"{row}.{column}" for column in self.columns)

    def triggers(self):
        names = ", ".join(self.columns)
        delete = (
            f"INSERT INTO {self.table}({self.table}, rowid, {names}) "
            f"VALUES ('delete', old.id, {self._values('old')});"
        )
        insert = f"INSERT INTO {self.table}(rowid, {names}) VALUES (new.id, {self._values('new')});"
        return {
            f"{self.table}_insert": f"AFTER INSERT ON {self.content} BEGIN {insert} END",
            f"{self.table}_delete": f"AFTER DELETE ON {self.content} BEGIN {delete} END",
            # Only a change to an indexed column re-indexes the row: a status
            # change on 3,000 comments touches no index.
            f"{self.table}_update": (
                f"AFTER UPDATE OF {names} ON {self.content} BEGIN {delete} {insert} END"
            ),
        }

    def create_table_sql(self):
        return (
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {self.table} USING fts5("
            f"{', '.join(self.columns)}, content='{self.content}', content_rowid='id', "
            f"{self.options})"
        )


def fts5_available(connection):
    """Whether this SQLite library was built with FTS5 (Python's usually is)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_compileoption_used('ENABLE_FTS5')")
        return bool(cursor.fetchone()[0])


def _existing(cursor, kind, names):
    placeholders = ", ".join(["%s"] * len(names))
    cursor.execute(
        f"SELECT name FROM sqlite_master WHERE type = %s AND name IN ({placeholders})",  # noqa: S608
        [kind, *names],
    )
    return {row[0] for row in cursor.fetchall()}


def install(connection, index):
    """Create the index, fill it from its table and add its triggers (SQLite only).

    Without FTS5 nothing is created and a warning says that searches will
    scan the table instead; returns whether the index exists afterwards.
    """
    if connection.vendor != "sqlite":
        return False
    if not fts5_available(connection):
        log.warning(
            "SQLite has no FTS5: %s not created; searches scan %s instead",
            index.table,
            index.content,
        )
        return False
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(index.create_table_sql())
            for name, body in index.triggers().items():
                cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
            cursor.execute(f"INSERT INTO {index.table}({index.table}) VALUES ('rebuild')")
    except DatabaseError as error:  # e.g. the trigram tokenizer needs SQLite 3.34
        log.warning(
            "%s not created (%s); searches scan %s instead", index.table, error, index.content
        )
        return False
    finally:
        is_installed.cache_clear()
    return True


def uninstall(connection, index):
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for name in index.triggers():
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(f"DROP TABLE IF EXISTS {index.table}")
    is_installed.cache_clear()


def repair(connection, index):
    """Put back the triggers of an installed index that lost them, and rebuild it; True if it did."""
    if connection.vendor != "sqlite":
        return False
    triggers = index.triggers()
    with connection.cursor() as cursor:
        if not _existing(cursor, "table", [index.table]):
            return False  # not installed (no FTS5, or migrated back): nothing to keep
        missing = set(triggers) - _existing(cursor, "trigger", list(triggers))
        if not missing:
            return False
        for name in sorted(missing):
            cursor.execute(f"CREATE TRIGGER {name} {triggers[name]}")
        cursor.execute(f"INSERT INTO {index.table}({index.table}) VALUES ('rebuild')")
    log.warning("%s lost its triggers (a table rebuild); re-created and re-indexed", index.table)
    return True


@cache
def is_installed(alias, table):
    """Whether the FTS5 table exists and this SQLite can read it; checked once per process."""
    connection = connections[alias]
    if connection.vendor != "sqlite":
        return False
    try:
        with connection.cursor() as cursor:
            if not _existing(cursor, "table", [table]):
                raise LookupError(f"no table {table}")
            cursor.execute(f"SELECT rowid FROM {table} WHERE {table} MATCH '\"x\"' LIMIT 0")  # noqa: S608
    except Exception as error:  # no FTS5 module, or never installed
        log.warning("full-text index %s unavailable (%s); falling back to a scan", table, error)
        return False
    return True


INDEXES = {}  # app label: the FtsIndex objects its models use, for repair() after migrate


def register(app_label, index):
    INDEXES.setdefault(app_label, []).append(index)
    return index


def repair_after_migrate(app_config, using="default", **kwargs):
    """post_migrate (sent for each app with models): repair that app's indexes on that database."""
    connection = connections[using]
    for index in INDEXES.get(app_config.label, ()):
        repair(connection, index)
    is_installed.cache_clear()


def match_phrases(terms):
    """An FTS5 query that matches every term as a literal: quoted, so no term is ever syntax."""
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)
