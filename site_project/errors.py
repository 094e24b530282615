"""The error handlers: styled 400, 403 (the admin's in its own look), 500, a 503 when the
database is unreachable, 413 for big bodies."""

import logging
import sys

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views import defaults

from site_project.request_limits import too_large

log = logging.getLogger("site_project.availability")

# What the 503 page may say about a comment being sent: comments/views.py sets
# request.comment_outcome to COMMENT_UNKNOWN just before the commit and to
# COMMENT_SAVED after it. The session is saved after that, so the database can
# still fail a request whose comment is stored; a POST without either failed
# before anything was written.
COMMENT_UNKNOWN = "unknown"
COMMENT_SAVED = "saved"


def server_error(request):
    """handler500. Rendered without the request: its context would query the database."""
    exception = sys.exc_info()[1]
    if isinstance(exception, (OperationalError, InterfaceError)):
        log.error("database unavailable while serving %s: %s", request.path, exception)
        comment = getattr(request, "comment_outcome", None)
        if comment is None and request.method == "POST":
            comment = "not_saved"
        page = render_to_string("503.html", {"comment": comment})
        response = HttpResponse(page, status=503)
        response["Retry-After"] = "30"
    else:
        response = HttpResponseServerError(render_to_string("500.html"))
    response["Cache-Control"] = "no-store"
    return response


def bad_request(request, exception):
    """handler400. A body over DATA_UPLOAD_MAX_MEMORY_SIZE is "too large" (413), not "bad"."""
    if isinstance(exception, RequestDataTooBig):
        return too_large(request, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    """handler403: inside the admin, a page in the admin's look with its menus; elsewhere 403.html."""
    if request.path.startswith(reverse("admin:index")):
        context = admin.site.each_context(request)
        return render(request, "admin/403.html", context, status=403)
    return defaults.permission_denied(request, exception)
