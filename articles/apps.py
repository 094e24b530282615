from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Articles"

    def ready(self):
        from site_project import sqlite_fts

        # Connects the signal that keeps an article's links with each of its versions.
        from . import browse, history, search  # noqa: F401

        browse.connect()  # keeps the topic and month counts
        sqlite_fts.register(self.label, search.SQLITE_INDEX)
