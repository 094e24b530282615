"""The client address used for rate limits and login throttling."""

from django.conf import settings


def client_ip(request):
    """The socket's address, or the one the Nth trusted proxy saw (DJANGO_TRUSTED_PROXIES).

    Each trusted proxy appends the address it received the request from to
    X-Forwarded-For, so with N proxies the Nth entry from the right is the one
    the outermost of ours saw; anything left of it is the client's own claim.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies]
