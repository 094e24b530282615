"""DJANGO_SECRET_KEY is required when debug is off: one rule, checked in two places."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

MISSING = "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off."


def require_secret_key():
    """Raise, with our message, when the key is missing (Django refuses an empty one)."""
    try:
        _ = settings.SECRET_KEY  # Django raises on an empty key
    except ImproperlyConfigured:
        raise ImproperlyConfigured(MISSING) from None


@register(Tags.security, deploy=True)
def secret_key_is_set(app_configs, **kwargs):
    """`check --deploy` names a missing key (the WSGI start-up refuses it outright)."""
    try:
        require_secret_key()
    except ImproperlyConfigured:
        return [Error(MISSING, id="site_project.E001")]
    return []
