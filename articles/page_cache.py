"""Whole pages for anonymous readers, cached, and checked against the database on every request.

What a reader without a session sees of an article (or of the list) is the
same for everyone but for a few hidden form fields (the CSRF token, the
comment form's signed timestamp). So the page is cached once, with those
fields cut out, and each request only fills them in.

The cache key holds versions read from the database in one small query: the
article's updated_at and comments_version, and a site-wide version (the
newest updated_at and how many articles are public now). Each process asks
at most once a second per page (PAGE_CACHE_RECHECK_SECONDS). So a
saved article, a moderated comment or a scheduled article whose time has come
changes the key in every process within that second, even when each has its own
local-memory cache, and nothing needs deleting.

An article page is cached in two layers: the whole page, and the page with
its comment thread cut out (a "shell"). After a comment is moderated only the
thread is rendered again, by the fragment renderer the comments app registers
(articles never import comments). After an article is saved or its comments
are moderated, its first page is rendered again as soon as the change
commits and kept in the database (articles/prerender.py); it comes back with
the versions, so the first reader in any process does not pay for it.

A path whose shared copy has been served is answered on later requests by
CachedPageMiddleware (articles/middleware.py) before URL resolution.

Staff, commenters with a session, and any request with other parameters get
the normal, uncached view.
"""

import hashlib
import json
import logging
import math
import re
import time
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone as dt_timezone
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone

from site_project.csrf_tokens import masked_token

from .models import Article, RenderedPage

log = logging.getLogger(__name__)

# Cached copies also expire, so that what no version tracks (a renamed topic)
# shows within this many seconds.
TIMEOUT = 600
LIST_PAGE_SIZE = 10  # the list view's paginate_by
MESSAGES_COOKIE = "messages"

# Hidden fields whose value belongs to one visitor: name -> fill(request, article_id).
_per_request_fields = {"csrfmiddlewaretoken": lambda request, article_id: masked_token(request)}
# Parts of a page that change apart from the article: name -> render(article, request).
_fragments = {}


def per_request_field(name, fill):
    """Register a hidden form field whose value is made afresh for each request."""
    _per_request_fields[name] = fill


def fragment(name, render):
    """Register a part of the article page, marked <!--fragment:NAME-->…<!--/fragment:NAME-->."""
    _fragments[name] = render


def fragment_markers(name):
    return f"<!--fragment:{name}-->", f"<!--/fragment:{name}-->"


# --- versions: one query per request -----------------------------------------

_TABLE = Article._meta.db_table
_RENDERED = RenderedPage._meta.db_table
_PUBLISHED = Article.Status.PUBLISHED.value
# Plain SQL: the ORM costs ten times the query itself on this hot path.
_ARTICLE_VERSION_SQL = f"""
    SELECT CASE WHEN a.status = %s AND a.published_at <= %s THEN 1 ELSE 0 END,
           a.updated_at, a.comments_version,
           (SELECT MAX(updated_at) FROM {_TABLE}),
           (SELECT COUNT(*) FROM {_TABLE} WHERE status = %s AND published_at <= %s),
           r.key, CASE WHEN %s THEN r.parts END,
           a.id, a.published_at, a.allow_comments, a.comment_count, a.comment_thread_count
    FROM {_TABLE} a LEFT JOIN {_RENDERED} r ON r.article_id = a.id
    WHERE a.slug = %s
"""  # noqa: S608  (table name from our own model, values as parameters)
# The columns after the versions, as the Article fields fragment renderers may read.
FRAGMENT_FIELDS = ("id", "published_at", "allow_comments", "comment_count", "comment_thread_count")
_SITE_VERSION_SQL = f"""
    SELECT MAX(updated_at),
           (SELECT COUNT(*) FROM {_TABLE} WHERE status = %s AND published_at <= %s)
    FROM {_TABLE}
"""  # noqa: S608


@dataclass(frozen=True)
class ArticleVersion:
    slug: str
    fields: tuple  # the values of FRAGMENT_FIELDS
    shell_key: str
    full_key: str
    rendered_key: str | None  # the key of the RenderedPage kept in the database

    @property
    def article_id(self):
        return self.fields[0]

    @property
    def thread_count(self):
        return self.fields[-1]

    def article(self):
        """An Article holding only what fragment renderers may read."""
        article = Article(slug=self.slug, status=_PUBLISHED, **dict(zip(FRAGMENT_FIELDS, self.fields, strict=True)))
        article.allow_comments = bool(article.allow_comments)
        article.published_at = _as_datetime(article.published_at)
        return article


def _key(*parts):
    return "page:" + hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()


class _ProcessMemory(dict):
    """What this process remembers, emptied when full: crude and cheap, as each
    entry is found again (in the database or the shared cache) on its next use."""

    def __init__(self, most):
        super().__init__()
        self.most = most

    def put(self, key, value):
        if key not in self and len(self) >= self.most:
            self.clear()
        self[key] = value


# The versions each process read last, reused for PAGE_CACHE_RECHECK_SECONDS:
# under load the database is asked at most once a second per page and
# process, and a change still shows everywhere within that second (DESIGN.md
# allows "a couple of seconds"). 0 asks on every request.
_checked = _ProcessMemory(2048)


def _recently_checked(kind, *args):
    """`kind(*args)`, or what it returned less than PAGE_CACHE_RECHECK_SECONDS ago."""
    seconds = settings.PAGE_CACHE_RECHECK_SECONDS
    if seconds <= 0:
        return kind(*args)
    key = (kind, *args)
    now = time.monotonic()
    checked = _checked.get(key)
    if checked is not None and checked[0] > now:
        return checked[1]
    value = kind(*args)
    _checked.put(key, (now + seconds, value))
    return value


def article_version(slug, comment_page):
    """The cache keys of an article's page, or None when it is not public."""
    return _recently_checked(_read_article_version, slug, comment_page)


def list_version(page):
    """The cache key of a page of the article list, and how many pages there are."""
    return _recently_checked(_read_list_version, page)


def _read_article_version(slug, comment_page):
    now = timezone.now()
    # The page kept by articles/prerender.py (only ever a first comment page) comes with the
    # versions: after a change, the first reader in each process needs no second query.
    with_kept_page = comment_page == 1
    with connection.cursor() as cursor:
        cursor.execute(_ARTICLE_VERSION_SQL, [_PUBLISHED, now, _PUBLISHED, now, with_kept_page, slug])
        row = cursor.fetchone()
    if row is None or not row[0]:
        return None
    _, updated, comments_version, site_updated, site_count, rendered_key, kept_page = row[:7]
    shell = _key("article", row[7], updated, site_updated, site_count, comment_page)
    version = ArticleVersion(
        slug=slug,
        fields=row[7:],
        shell_key=shell,
        full_key=f"{shell}:{comments_version}",
        rendered_key=rendered_key,
    )
    if kept_page is not None and rendered_key == version.full_key and _local_copy(version.full_key) is None:
        # Kept in this process only: every process reads it from the database itself.
        _remember(version.full_key, CachedPage.from_json(kept_page, version.article_id))
    return version


def _as_datetime(value):
    """A datetime column read with plain SQL (SQLite gives text, in UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt_timezone.utc)
    return value


def _read_list_version(page):
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_SITE_VERSION_SQL, [_PUBLISHED, now])
        site_updated, site_count = cursor.fetchone()
    return _key("list", site_updated, site_count, page), max(1, math.ceil(site_count / LIST_PAGE_SIZE))


# --- which requests may be served from the cache -------------------------------


def serves_anonymous_copy(request, allowed_params=()):
    """A GET from a reader with no session, no message waiting and no other parameters."""
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and MESSAGES_COOKIE not in request.COOKIES
        and set(request.GET) <= set(allowed_params)
    )


def page_number(request, pages):
    """The requested list page as an int when it is one that exists, else None."""
    value = request.GET.get("page", "1")
    if not value.isdigit() or not 1 <= int(value) <= pages:
        return None
    return int(value)


# --- storing and serving ---------------------------------------------------------


@dataclass(frozen=True)
class CachedPage:
    """A page cut at its per-request fields: text, field, text, field, …, text."""

    parts: tuple
    article_id: int | None
    etag: str

    @classmethod
    def cut(cls, html, article_id=None):
        names = "|".join(map(re.escape, _per_request_fields))
        field = re.compile(rf'(<input type="hidden" name="(?:{names})" value=")([^"]*)(")')
        parts, last = [], 0
        for match in field.finditer(html):
            parts.append(html[last : match.end(1)])
            parts.append(match.group(0).split('name="', 1)[1].split('"', 1)[0])
            last = match.start(3)
        parts.append(html[last:])
        etag = hashlib.sha1(html.encode()).hexdigest()[:16]
        return cls(parts=_encoded_text(parts), article_id=article_id, etag=etag)

    def to_json(self):
        parts = [part if index % 2 else part.decode() for index, part in enumerate(self.parts)]
        return json.dumps({"etag": self.etag, "parts": parts})

    @classmethod
    def from_json(cls, text, article_id=None):
        kept = json.loads(text)
        return cls(parts=_encoded_text(kept["parts"]), article_id=article_id, etag=kept["etag"])

    def fill(self, request):
        """The page as bytes, with this request's own values in the hidden fields."""
        out = list(self.parts)
        for index in range(1, len(out), 2):
            out[index] = _per_request_fields[out[index]](request, self.article_id).encode()
        return b"".join(out)


def _encoded_text(parts):
    # Text kept encoded (field names between stay str): the response is bytes,
    # and this page is sent many times.
    return tuple(part if index % 2 else part.encode() for index, part in enumerate(parts))


# The last pages this process served, unpickled. Safe because a key names
# the versions its page was made from; entries still expire with TIMEOUT.
_recent = _ProcessMemory(32)


def _local_copy(key):
    recent = _recent.get(key)
    if recent is not None and recent[0] > time.monotonic():
        return recent[1]
    return None


def _cache_get(key):
    local = _local_copy(key)
    if local is not None:
        return local
    try:
        value = cache.get(key)
    except Exception:  # a cache that is down costs speed, never a page
        _log_cache_failure()
        return None
    if value is not None:
        _remember(key, value)
    return value


def _cache_set(key, value):
    _remember(key, value)
    try:
        cache.set(key, value, TIMEOUT)
    except Exception:
        _log_cache_failure()


def _remember(key, value):
    _recent.put(key, (time.monotonic() + TIMEOUT, value))


def forget():
    """Drop this process's copies, checked versions and known paths (tests that clear the cache call it too)."""
    _recent.clear()
    _checked.clear()
    _known_paths.clear()


_last_failure_log = 0.0


def _log_cache_failure():
    global _last_failure_log
    if time.monotonic() - _last_failure_log > 60:
        _last_failure_log = time.monotonic()
        log.warning("page cache unavailable; serving pages uncached", exc_info=True)


def respond(request, page, private):
    """The cached page for this visitor: their own hidden fields, or a 304."""
    # The visitor's own CSRF cookie is part of the validator: a copy they hold
    # carries a token that only their cookie accepts.
    cookie = request.COOKIES.get(settings.CSRF_COOKIE_NAME, "") if private else ""
    etag = f'W/"{page.etag}{hashlib.sha1(cookie.encode()).hexdigest()[:8] if cookie else ""}"'
    if etag in request.META.get("HTTP_IF_NONE_MATCH", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(page.fill(request))
    response["ETag"] = etag
    response["Cache-Control"] = (
        "private, no-cache" if private else "public, max-age=0, s-maxage=30, must-revalidate"
    )
    response["X-Page-Cache"] = "hit"
    return response


def store(key, html, article_id=None):
    page = CachedPage.cut(html, article_id)
    _cache_set(key, page)
    return page


# --- the article page ------------------------------------------------------------


def cached_article_page(request, slug, render):
    """The article page, from the cache when this request may have the shared copy.

    `render()` is the view's own rendering (a TemplateResponse); it is used,
    and returned as it is, whenever the cache does not apply.
    """
    version, page = _article_copy(request, slug)
    if version is None:
        return render()  # not for the shared copy, or no such public page
    if page is None:
        shell = _cache_get(version.shell_key)
        if shell is not None:
            html = shell.fill(version.article(), request)
        else:
            response = render()
            if response.status_code != 200:
                return response
            html = response.rendered_content
            _cache_set(version.shell_key, _Shell.cut(html))
        page = store(version.full_key, html, version.article_id)
    if getattr(request, "prerendering", False) and version.rendered_key != version.full_key:
        _keep(version, page)
    _known_paths.put(request.path_info, partial(_known_article, slug))
    return respond(request, page, private=True)


def _article_copy(request, slug):
    """(versions, cached page or None), or (None, None) when the shared copy does not apply."""
    return _once_per_request(request, ("article", slug), lambda: _find_article_copy(request, slug))


def _find_article_copy(request, slug):
    if not serves_anonymous_copy(request, allowed_params={"cpage"}):
        return None, None
    comment_page = request.GET.get("cpage", "1")
    if not comment_page.isdigit():
        return None, None
    # Rendering ahead reads the versions the change it follows has just committed.
    read = _read_article_version if getattr(request, "prerendering", False) else article_version
    version = read(slug, int(comment_page))
    # Each comment page holds at least one thread, so this bounds the copies kept.
    if version is None or not 1 <= int(comment_page) <= max(1, version.thread_count):
        return None, None  # unknown, moved, draft, scheduled or no such page
    return version, _cache_get(version.full_key)


def _known_article(slug, request):
    _, page = _article_copy(request, slug)
    return None if page is None else respond(request, page, private=True)


def _keep(version, page):
    RenderedPage.objects.update_or_create(
        article_id=version.article_id,
        defaults={"key": version.full_key, "parts": page.to_json()},
    )


@dataclass(frozen=True)
class _Shell:
    """The page's HTML with each registered fragment cut out: text, name, text, …"""

    parts: tuple

    def fill(self, article, request):
        out = list(self.parts)
        for index in range(1, len(out), 2):
            out[index] = _fragments[out[index]](article, request)
        return "".join(out)

    @classmethod
    def cut(cls, html):
        parts = []
        rest = html
        for name in _fragments:
            start, end = fragment_markers(name)
            before, found, after = rest.partition(start)
            if not found:
                continue
            _, _, rest = after.partition(end)
            parts += [before + start, name]
            rest = end + rest
        parts.append(rest)
        return cls(parts=tuple(parts))


# --- the list page -----------------------------------------------------------------


def cached_list_page(request, render):
    """The article list, from the cache when this request may have the shared copy."""
    key, page = _list_copy(request)
    if key is None:
        return render()
    if page is None:
        response = render()
        if response.status_code != 200:
            return response
        page = store(key, response.rendered_content)
    _known_paths.put(request.path_info, _known_list)
    return respond(request, page, private=False)


def _list_copy(request):
    """(cache key, cached page or None), or (None, None) when the shared copy does not apply."""
    return _once_per_request(request, ("list",), lambda: _find_list_copy(request))


def _find_list_copy(request):
    if not serves_anonymous_copy(request, allowed_params={"page"}):
        return None, None
    key, pages = list_version(request.GET.get("page", "1"))
    if page_number(request, pages) is None:
        return None, None
    return key, _cache_get(key)


def _known_list(request):
    _, page = _list_copy(request)
    return None if page is None else respond(request, page, private=False)


def _once_per_request(request, what, find):
    # The middleware looks first; when it cannot answer, the view must not ask the database again.
    found = request.__dict__.setdefault("_page_cache_lookups", {})
    if what not in found:
        found[what] = find()
    return found[what]


# --- serving before the URL is even resolved ---------------------------------------


# Paths whose shared copy this process has served: path -> find(request) -> response or None.
_known_paths = _ProcessMemory(2048)


def known_copy(request):
    """The cached page for this request if its path is one the views have served a copy of.

    Called by CachedPageMiddleware before URL resolution. Every check the
    view makes (who is asking, which parameters, whether the page is still
    public, its versions) is made again here; anything else goes to the view.
    """
    find = _known_paths.get(request.path_info)
    return None if find is None else find(request)
