"""Settings for the blog, read from the environment variables named in DESIGN.md.

DJANGO_DEBUG, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL, REDIS_URL,
SITE_URL, EMAIL_URL (or the usual EMAIL_* names), MODERATOR_EMAILS and
DJANGO_TRUSTED_PROXIES; nothing else.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import dj_email_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG")

# Required with debug off: gunicorn refuses to start without it and `check --deploy`
# names it (site_project/secret_key.py), while commands that never sign anything,
# such as makemigrations, still run.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "insecure-development-key-only-for-DJANGO_DEBUG=1"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")

SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000").rstrip("/")

# How many proxies in front of gunicorn append to X-Forwarded-For; 0 trusts none.
TRUSTED_PROXIES = int(os.environ.get("DJANGO_TRUSTED_PROXIES", "0") or 0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "markdownx",
    "simple_history",
    "adminsortable2",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "site_project",
    "articles",
    "comments",
]

MIDDLEWARE = [
    # Public pages (site_project/shared_pages.py): the update middleware sees
    # the finished response, so a kept copy carries every header below; the
    # fetch middleware answers a visitor without a session before anything
    # else runs, and ConditionalGet answers a repeat visit with a 304 either way.
    "site_project.shared_pages.UpdateSharedPageMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "site_project.shared_pages.FetchSharedPageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "site_project.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the body: oversized ones get a 413 unread.
    "site_project.request_limits.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Puts a refused comment form back into the article page it redirected to.
    "comments.middleware.RefusedCommentMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "site_project.urls"
WSGI_APPLICATION = "site_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "site_project.context_processors.site",
            ],
        },
    },
]

# Database: SQLite in the project folder unless DATABASE_URL names another.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while a comment is written; IMMEDIATE takes the write
    # lock at BEGIN so that two writers queue on the busy timeout instead of
    # failing with "database is locked" half-way through a transaction.
    # Kept open: opening a file and running the pragmas would cost more than
    # a cached page itself.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;"
        ),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: local memory by default; Redis when REDIS_URL is set, so that every
# gunicorn worker shares rate limits and cached pages.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    # Each worker's own memory. A page kept by the cache middleware is two
    # entries (its headers and the page) and lives one second, but local
    # memory drops entries only when full (a third of them, least recently
    # used first), so a busy worker holds MAX_ENTRIES entries: about
    # 1,000 pages, 20-60 MB. Django's default of 300 keeps 150 pages; past
    # that, pages and the flood counters push each other out. See README
    # "Cache sizing" for when to raise it and when to use Redis instead.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 2000},
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Admin login throttling (django-axes), see site_project/login_throttle.py:
# 5 failures for one username from one address lock that pair out for 15
# minutes (an outsider cannot lock a moderator out at the moderator's own
# address); 20 from one address, for any usernames, lock the address. A good
# log-in clears its own pair's failures only. axes logs each lockout.
AXES_FAILURE_LIMIT = 5
LOGIN_ADDRESS_FAILURE_LIMIT = 20
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = "site_project.login_throttle.lockout_parameters"
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "site_project.client_ip.client_ip"
AXES_LOCKOUT_TEMPLATE = "lockout.html"
AXES_HTTP_RESPONSE_CODE = 429

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"
# Hashed, compressed static files (site_project/static_storage.py): `collectstatic`
# writes them and their manifest; until it has run, plain names from the finders.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "site_project.static_storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = not (STATIC_ROOT / "staticfiles.json").exists()

# Request limits: the project refuses oversized bodies itself (413/400).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# Email: EMAIL_URL (smtp://user:pass@host:587/?tls=True) or the usual EMAIL_* names.
if os.environ.get("EMAIL_URL"):
    vars().update(dj_email_url.parse(os.environ["EMAIL_URL"]))
else:
    EMAIL_BACKEND = (
        "django.core.mail.backends.smtp.EmailBackend"
        if os.environ.get("EMAIL_HOST")
        else "django.core.mail.backends.console.EmailBackend"
    )
    EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = 5
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "blog@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
MODERATOR_EMAILS = env_list("MODERATOR_EMAILS")

# Security. Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp); site_project/security.py relaxes
# style-src for the admin only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the markdownx editor reads it to post the preview
if not DEBUG:
    SECURE_SSL_REDIRECT = True
    # The load balancer's health checks speak plain HTTP to gunicorn.
    SECURE_REDIRECT_EXEMPT = [r"^healthz"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# django-markdownx: the editor widget posts to our own staff-only views (see
# articles/editor_views.py); markdownx.urls is deliberately not included.
MARKDOWNX_MARKDOWNIFY_FUNCTION = "articles.markdown.markdownify"
MARKDOWNX_URLS_PATH = "/admin-tools/markdown/preview/"
MARKDOWNX_UPLOAD_URLS_PATH = "/admin-tools/markdown/upload/"
MARKDOWNX_UPLOAD_MAX_SIZE = 5 * 1024 * 1024
# Any multipart body (site_project/request_limits.py): one editor's image and its form fields.
REQUEST_BODY_MAX_SIZE = MARKDOWNX_UPLOAD_MAX_SIZE + 256 * 1024
MARKDOWNX_MEDIA_PATH = "markdownx/"

# Public pages are shared by every visitor without a session and kept this
# many seconds by Django's cache middleware and by any cache in front
# (s-maxage). Short enough that a change shows within two seconds through
# nginx and the app together, with nothing to invalidate.
CACHE_MIDDLEWARE_SECONDS = 1
CACHE_MIDDLEWARE_KEY_PREFIX = "pages"

# Logs are JSON lines (python-json-logger): moderation actions, refused
# submissions and lockouts carry their fields (event, counts, ids) as keys.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

# Comments: moderation thresholds (comments/conf.py holds the defaults).
COMMENTS_MAX_LENGTH = 5000  # characters in a comment
COMMENTS_MAX_LINKS = 2  # more links than this holds a comment with that reason
COMMENTS_FLOOD_LIMIT = 3  # comments per IP address, and per email, in one window...
COMMENTS_FLOOD_WINDOW = 60  # ...of this many seconds
COMMENTS_MAX_DEPTH = 3  # levels of a conversation, the top-level comment included
COMMENTS_PER_PAGE = 50  # top-level comments per comment page
COMMENTS_CLOSE_AFTER_DAYS = None  # close comments N days after publishing; None never does
COMMENTS_AUTO_APPROVE_RETURNING = False  # off: every comment on a medical site is read first
COMMENTS_DISALLOWED_WORDS = []  # marked as spam; moderators add more in the admin
COMMENTS_CONFIRMATION_INTERVAL = 24 * 3600  # at most one confirmation email per address a day
COMMENTS_CONFIRMATIONS_PER_SENDER = 5  # confirmation emails per IP address (IPv6 /64) an hour
COMMENTS_MAIL_MAX_ATTEMPTS = 12  # tries per email before it is given up (about 8 hours)...
COMMENTS_MAIL_RETRY_DELAY = 60  # ...waiting 1, 2, 4 ... minutes (at most an hour) between them

# Background work (email): Django's Tasks API through the django-tasks backport,
# stored in the database by django-tasks-db and run by `manage.py worker`
# (which wraps django-tasks-db's db_worker). Nothing is sent from a request.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
