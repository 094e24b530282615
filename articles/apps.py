from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Articles"

    def ready(self):
        from site_project import sqlite_fts

        from . import browse, search

        browse.connect()  # keeps the topic and month counts
        sqlite_fts.register(self.label, search.SQLITE_INDEX)
