from django.apps import AppConfig


class SiteProjectConfig(AppConfig):
    """Site-wide pieces: health checks, error pages, login audit, operations commands."""

    name = "site_project"
    verbose_name = "Site"

    def ready(self):
        from . import (
            login_audit,  # noqa: F401  (connects the lockout receiver)
            secret_key,  # noqa: F401  (registers its system check)
        )
