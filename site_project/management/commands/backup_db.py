"""Online backup of the SQLite database through SQLite's backup API."""

import sqlite3
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = (
        "Copy the SQLite database to PATH while the site keeps running "
        "(for PostgreSQL use pg_dump; see the README)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="where to write the backup (a new SQLite file)")

    def handle(self, *args, path, **options):
        if connection.vendor != "sqlite":
            raise CommandError(
                f"backup_db backs up SQLite; this site uses {connection.vendor}: use pg_dump."
            )
        target = Path(path)
        if target.exists():
            raise CommandError(f"{target} exists already; choose a new file.")
        target.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(connection.settings_dict["NAME"], timeout=20)
        try:
            with sqlite3.connect(target) as destination:
                # Pages are copied in steps, so writers are only briefly held up.
                source.backup(destination, pages=256)
                check = destination.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            source.close()
        if check != "ok":
            raise CommandError(f"The backup at {target} failed its integrity check: {check}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up the database to {target} ({target.stat().st_size} bytes)."
            )
        )
