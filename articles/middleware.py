"""Cached pages served to anonymous readers before URL resolution and the view.

The same idea as Django's FetchFromCacheMiddleware, for the pages
articles/page_cache.py keeps: a path the article or list view has served a
shared copy of is answered here, skipping what an anonymous reader with no
session does not need (URL resolution, authentication, messages, history,
login throttling, the view). Anything it cannot answer goes on to the view.

Place it right after CsrfViewMiddleware, which reads the visitor's CSRF
cookie before and sets it after (the page carries their token), and after
every middleware that adds headers to responses (security, CSP,
X-Frame-Options), so that a page served here gets them all.
"""

from . import page_cache


class CachedPageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return page_cache.known_copy(request) or self.get_response(request)
