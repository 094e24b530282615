"""Cross-site request forgery protection for public forms, without a per-visitor token.

A token in the page would make every public page different for each visitor,
so no cache could share it. Browsers say where a request comes from instead:
`Sec-Fetch-Site` (Fetch Metadata) and `Origin`. The rule is Go 1.25's
net/http.CrossOriginProtection, also used by ASP.NET Core and Echo:

- `Sec-Fetch-Site: same-origin` (or `none`, typed by the user) goes through;
  `cross-site` and `same-site` are refused;
- without it, an `Origin` that is not the site's own is refused;
- with neither header the request is not from a browser that a forged page
  could drive, and goes on to the usual spam rules.

The admin and the log-in form keep Django's token CSRF: they are never cached.
"""

import logging
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

log = logging.getLogger("site_project.cross_origin")

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def site_origins(request):
    """The site's own origins: SITE_URL's, and the one this request was addressed to."""
    # The request's host has passed ALLOWED_HOSTS, so a foreign page cannot claim it.
    return {_origin(settings.SITE_URL), f"{request.scheme}://{request.get_host()}".lower()}


def cross_origin_refusal(request):
    """Why this request must be refused as cross-origin, or "" when it may go on."""
    if request.method in SAFE_METHODS:
        return ""
    fetch_site = request.headers.get("Sec-Fetch-Site", "").strip().lower()
    if fetch_site in {"same-origin", "none"}:
        return ""
    if fetch_site:
        return f"Sec-Fetch-Site: {fetch_site}"
    origin = request.headers.get("Origin")
    if origin is not None and origin.strip().lower() not in site_origins(request):
        return "foreign Origin"
    return ""


def same_origin_only(view):
    """Refuse cross-site POSTs to `view` with a styled 403; Django's token check is not used."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        reason = cross_origin_refusal(request)
        if reason:
            log.info(
                "cross-origin request refused: %s",
                reason,
                extra={"event": "cross_origin_refused", "reason": reason, "path": request.path},
            )
            return render(request, "403_cross_origin.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper
