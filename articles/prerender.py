"""Rendering an article's first page ahead of its next reader, once a change commits.

After an editor saves an article or a moderator acts on its comments, the
page a first-time anonymous reader would get is rendered at once, in the
process that made the change, and kept in the database (RenderedPage) with
the versions it was made from. Every server process then serves it to its
first reader without rendering anything (articles/page_cache.py reads it
with the versions, in the same query).
"""

import logging
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse

from .models import Article

log = logging.getLogger(__name__)


def anonymous_request(path):
    """A GET as a first-time reader would send it, for rendering a page ahead of them."""
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = path
    host = settings.ALLOWED_HOSTS[0] if settings.ALLOWED_HOSTS else "localhost"
    request.META = {
        "SERVER_NAME": host.lstrip("."),
        "SERVER_PORT": "443",
        "HTTP_HOST": host.lstrip("."),
    }
    request.user = AnonymousUser()
    request.session = SessionBase()
    request.prerendering = True
    return request


# At most this many articles are rendered ahead after one change (a bulk
# moderation action across many articles); the rest are rendered by their
# first reader, as before.
PRERENDER_AT_MOST = 10


def prerender_when_committed(article_ids):
    """Render these articles' first pages for their next reader once the change commits."""
    article_ids = sorted(set(article_ids))[:PRERENDER_AT_MOST]
    if article_ids:
        transaction.on_commit(partial(_prerender_each, article_ids))


def _prerender_each(article_ids):
    for article_id in article_ids:
        try:
            prerender(article_id)
        except Exception:  # an optimisation: a failure here must never fail the change
            log.exception("could not prerender article %s", article_id)


def prerender(article_id):
    """Render and keep the first page of an article as an anonymous first reader gets it."""
    from .views import ArticleDetailView  # not at the top: models import this module

    article = Article.objects.filter(pk=article_id).only("slug").first()
    if article is None:
        return
    path = reverse("articles:detail", kwargs={"slug": article.slug})
    ArticleDetailView.as_view()(anonymous_request(path), slug=article.slug)
