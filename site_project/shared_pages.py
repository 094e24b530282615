"""Public pages: one copy for every visitor without a session, cacheable anywhere.

A reader with no session cookie and no message waiting gets exactly the same
bytes as every other such reader, so the page is marked `Cache-Control:
public` with a shared lifetime of CACHE_MIDDLEWARE_SECONDS (a second or two:
"micro-caching"). Django's own cache middleware keeps that copy in the
default cache (local memory, or Redis with REDIS_URL), and nginx or a CDN in
front may keep it too. The lifetime is short enough that nothing needs
invalidating when an article is saved or a comment approved.

A visitor with a session (staff, a commenter who may see their pending
comment) or a message to show gets the live page, marked private. That rule
lives in `has_own_state()`; deploy/nginx.conf applies the same rule to the
same two cookies.
"""

import logging
from functools import wraps

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.middleware.cache import FetchFromCacheMiddleware, UpdateCacheMiddleware
from django.utils.cache import patch_cache_control, patch_vary_headers

log = logging.getLogger(__name__)

MESSAGES_COOKIE = CookieStorage.cookie_name


def has_session(request):
    """Whether the visitor sent a session cookie: only then is it worth asking who they are.

    Reading request.user or the session of a visitor without one finds
    nobody, yet makes Django add `Vary: Cookie`, which no shared cache can use.
    """
    return settings.SESSION_COOKIE_NAME in request.COOKIES


def has_own_state(request):
    """Whether this visitor may see something nobody else does: a session or a message."""
    return has_session(request) or MESSAGES_COOKIE in request.COOKIES


def shared_page(view):
    """Mark the view's pages public for visitors without state, private for the others.

    Only pages marked public here are ever stored by the cache middleware
    below, so a page must opt in: healthz, the admin or a form post never do.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if "Cache-Control" in response:
            return response  # the view decided (a staff draft preview: never cached)
        if has_own_state(request):
            patch_cache_control(response, private=True, no_cache=True)
            patch_vary_headers(response, ["Cookie"])
        elif response.status_code == 200:
            seconds = settings.CACHE_MIDDLEWARE_SECONDS
            patch_cache_control(response, public=True, max_age=seconds, s_maxage=seconds)
        return response

    return wrapper


def _is_shared(response):
    cache_control = response.get("Cache-Control", "")
    return "public" in cache_control and "private" not in cache_control


class FetchSharedPageMiddleware(FetchFromCacheMiddleware):
    """Answers a visitor without state from the cache before anything else runs."""

    def process_request(self, request):
        if has_own_state(request):
            request._cache_update_cache = False
            return None
        try:
            return super().process_request(request)
        except Exception:
            # A cache that is down costs speed, never a page.
            log.warning("page cache unavailable; serving uncached", exc_info=True)
            request._cache_update_cache = False
            return None


class UpdateSharedPageMiddleware(UpdateCacheMiddleware):
    """Keeps the pages shared_page() marked public, for CACHE_MIDDLEWARE_SECONDS."""

    def __init__(self, get_response):
        super().__init__(get_response)
        # The lifetime comes from the setting, not from the response's max-age.
        self.page_timeout = settings.CACHE_MIDDLEWARE_SECONDS

    def process_response(self, request, response):
        if not _is_shared(response):
            return response
        if response.cookies:
            # A cookie is one visitor's (a CSRF token, a session): such a page
            # must never be shared, whatever the view said.
            log.error("a public page set a cookie; sent as private: %s", request.path)
            patch_cache_control(response, private=True)
            return response
        try:
            return super().process_response(request, response)
        except Exception:
            log.warning("page cache unavailable; page not kept", exc_info=True)
            return response
