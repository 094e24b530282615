"""The error handlers: a styled 500, a 503 when the database is unreachable, 413 for big bodies."""

import logging
import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.template.loader import render_to_string
from django.views import defaults

from site_project.request_limits import too_large

log = logging.getLogger("site_project.availability")


def server_error(request):
    """handler500. Rendered without the request: its context would query the database."""
    exception = sys.exc_info()[1]
    if isinstance(exception, (OperationalError, InterfaceError)):
        log.error("database unavailable while serving %s: %s", request.path, exception)
        response = HttpResponse(render_to_string("503.html"), status=503)
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
