"""The comment settings, with their defaults, read at call time.

Read through these functions rather than at import so that a test's
`settings` fixture (or a settings change at runtime) takes effect at once.
"""

from django.conf import settings

DEFAULTS = {
    "COMMENTS_MAX_LENGTH": 5000,
    "COMMENTS_MAX_LINKS": 2,
    "COMMENTS_FLOOD_LIMIT": 3,
    "COMMENTS_FLOOD_WINDOW": 60,
    "COMMENTS_MAX_DEPTH": 3,
    "COMMENTS_PER_PAGE": 50,
    "COMMENTS_CLOSE_AFTER_DAYS": None,
    "COMMENTS_AUTO_APPROVE_RETURNING": False,
    "COMMENTS_DISALLOWED_WORDS": (),
}


def get(name):
    return getattr(settings, name, DEFAULTS[name])


def max_length():
    return get("COMMENTS_MAX_LENGTH")


def max_links():
    return get("COMMENTS_MAX_LINKS")


def flood_limit():
    return get("COMMENTS_FLOOD_LIMIT")


def flood_window():
    return get("COMMENTS_FLOOD_WINDOW")


def max_depth():
    return get("COMMENTS_MAX_DEPTH")


def per_page():
    return get("COMMENTS_PER_PAGE")


def close_after_days():
    return get("COMMENTS_CLOSE_AFTER_DAYS")


def auto_approve_returning():
    return get("COMMENTS_AUTO_APPROVE_RETURNING")


def disallowed_words():
    return list(get("COMMENTS_DISALLOWED_WORDS"))
