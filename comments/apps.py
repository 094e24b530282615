from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = "Comments"

    def ready(self):
        from site_project import sqlite_fts

        from . import queue_scale

        sqlite_fts.register(self.label, queue_scale.SQLITE_INDEX)
