from django.apps import AppConfig


class SiteProjectConfig(AppConfig):
    """Site-wide pieces: health checks, error pages, login audit, operations commands."""

    name = "site_project"
    verbose_name = "Site"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import sqlite_fts

        # After every migrate: SQLite full-text indexes whose triggers a table
        # rebuild dropped get them back (site_project/sqlite_fts.py).
        post_migrate.connect(sqlite_fts.repair_after_migrate, dispatch_uid="sqlite_fts.repair")
        from . import (
            login_audit,  # noqa: F401  (connects the lockout receiver)
            secret_key,  # noqa: F401  (registers its system check)
        )
