"""Restore the SQLite database from a backup_db file through SQLite's backup API."""

import sqlite3
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = "Replace the SQLite database's contents with the backup at PATH (checked first)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="a file written by backup_db")
        parser.add_argument(
            "--yes", action="store_true", help="confirm that the current data may be replaced"
        )

    def handle(self, *args, path, yes=False, **options):
        if connection.vendor != "sqlite":
            raise CommandError("restore_db restores SQLite; for PostgreSQL use pg_restore.")
        backup = Path(path)
        if not backup.is_file():
            raise CommandError(f"There is no backup at {backup}.")
        if not yes:
            raise CommandError("This replaces every article and comment: run again with --yes.")
        try:
            source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
            check = source.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise CommandError(f"{backup} is not a readable SQLite database: {error}") from error
        if check != "ok":
            source.close()
            raise CommandError(f"{backup} failed its integrity check: {check}")
        connection.close()
        with sqlite3.connect(connection.settings_dict["NAME"], timeout=20) as destination:
            source.backup(destination)
        source.close()
        self.stdout.write(self.style.SUCCESS(f"Restored the database from {backup}."))
