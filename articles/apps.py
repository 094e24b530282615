from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Articles"

    def ready(self):
        # Connects the signal that keeps an article's links with each of its versions.
        from . import history  # noqa: F401
