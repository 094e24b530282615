"""Django's CSRF token, made with one call to the system's random source.

django.middleware.csrf.get_token() draws each of a token's letters with its
own secrets.choice(): 64 system calls for a first visitor (a new secret and
a mask), 32 for a returning one. On a cached article page that is the most
expensive thing left per request (~40 µs of ~250 µs in process; see the
README's benchmark). masked_token() makes the same token, to the same
contract, from one os.urandom() read: the secret and the mask are uniform
over Django's 62 letters (bytes above the largest multiple of 62 are thrown
away, so no letter is favoured), the mask is new on every call (BREACH), and
the token is checked by Django's own CsrfViewMiddleware, unchanged.
"""

import os

from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH

_LETTERS = CSRF_ALLOWED_CHARS
_COUNT = len(_LETTERS)
_INDEX = {letter: index for index, letter in enumerate(_LETTERS)}
# Bytes at or above this would make the first 256 % 62 letters likelier.
_UNBIASED_BELOW = 256 - 256 % _COUNT


def random_indices(count=CSRF_SECRET_LENGTH):
    """`count` independent, uniform positions in Django's CSRF alphabet."""
    indices = []
    while len(indices) < count:
        # Twice what is needed: 97% of bytes are kept, so one read nearly always does.
        indices += [byte % _COUNT for byte in os.urandom(2 * count) if byte < _UNBIASED_BELOW]
    return indices[:count]


def masked_token(request):
    """What django.middleware.csrf.get_token(request) returns, and with the same effects.

    The visitor's secret comes from their CSRF cookie when they sent a valid
    one; otherwise a new one is made and the middleware sets it as their
    cookie on the way out. Either way the cookie is (re)sent, as Django does,
    so that it does not expire while the visitor keeps reading.
    """
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = "".join([_LETTERS[index] for index in random_indices()])
        request.META["CSRF_COOKIE"] = secret
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = random_indices()
    cipher = [
        _LETTERS[(_INDEX[letter] + offset) % _COUNT]
        for letter, offset in zip(secret, mask, strict=True)
    ]
    return "".join([_LETTERS[index] for index in mask] + cipher)
