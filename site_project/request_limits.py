"""The project's own limits on request bodies, whatever proxy sits in front of gunicorn.

Two rules, for every view:

- A body larger than the project accepts is refused with 413 from its
  Content-Length, before a byte of it is read. Django alone would stream a
  multipart upload of any size to a temporary file before the view (or even
  the CSRF check) could refuse it.
- A body shorter than its Content-Length, because the client went away
  mid-request, is never handed to a view. gunicorn simply returns the bytes
  that did arrive, and Django would parse them as a complete form: a comment
  cut off half-way would be saved as if it had been sent whole.
"""

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

log = logging.getLogger("site_project.requests")


def content_length(meta):
    try:
        return max(0, int(meta.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def body_limit(request):
    """The largest body this request may carry: uploads (multipart) get room for one image."""
    if request.content_type == "multipart/form-data":
        return settings.REQUEST_BODY_MAX_SIZE
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large(request, limit):
    """The 413 response: JSON for the editor's image upload, a plain styled page elsewhere."""
    megabytes = max(1, limit // (1024 * 1024))
    if request.path_info == settings.MARKDOWNX_UPLOAD_URLS_PATH:
        response = JsonResponse(
            {"image": [f"The image is too large: the limit is {megabytes} MB."]}, status=413
        )
    else:
        # Rendered without the request, as the error pages are: no session, no database.
        page = render_to_string("413.html", {"megabytes": megabytes})
        response = HttpResponse(page, status=413)
    # No "Connection: close" here: WSGI forbids hop-by-hop headers (runserver
    # asserts on them); gunicorn's sync workers close every connection anyway.
    response["Cache-Control"] = "no-store"
    return response


class RequestSizeLimitMiddleware:
    """Refuses a body over the project's limits with 413 before it is read."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length, limit = content_length(request.META), body_limit(request)
        if length > limit:
            log.warning(
                "request body too large: %d bytes (limit %d) for %s",
                length,
                limit,
                request.path_info,
                extra={
                    "event": "request_too_large",
                    "content_length": length,
                    "limit": limit,
                    "path": request.path_info,
                },
            )
            return too_large(request, limit)
        return self.get_response(request)


class IncompleteBody(OSError):
    """The client closed the connection before sending the body it announced.

    An OSError, so that Django turns it into UnreadablePostError: the CSRF
    check then refuses the request, and request.POST is empty in any view.
    """


class CompleteBodyStream:
    """wsgi.input that hands out the announced Content-Length, or raises IncompleteBody."""

    def __init__(self, stream, length, path=""):
        self._stream = stream
        self._remaining = length
        self._path = path

    def read(self, size=-1):
        if size is None or size < 0 or size > self._remaining:
            size = self._remaining
        chunks, wanted = [], size
        # A server may hand out less than asked; only an empty read means the end.
        while wanted > 0:
            chunk = self._stream.read(wanted)
            if not chunk:
                self._incomplete(self._remaining - (size - wanted))
            chunks.append(chunk)
            wanted -= len(chunk)
        self._remaining -= size
        return b"".join(chunks)

    def readline(self, size=-1):
        if size is None or size < 0 or size > self._remaining:
            size = self._remaining
        if size == 0:
            return b""
        line = self._stream.readline(size)
        if not line:
            self._incomplete(self._remaining)
        self._remaining -= len(line)
        return line

    def __iter__(self):
        while line := self.readline():
            yield line

    def _incomplete(self, missing):
        log.warning(
            "request body incomplete: the client disconnected %d bytes short on %s",
            missing,
            self._path,
            extra={"event": "request_incomplete", "missing": missing, "path": self._path},
        )
        raise IncompleteBody(f"the client disconnected {missing} bytes short")


class CompleteBodyMiddleware:
    """WSGI middleware: the application reads a request body whole, or not at all."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        length = content_length(environ)
        if length and "wsgi.input" in environ:
            environ["wsgi.input"] = CompleteBodyStream(
                environ["wsgi.input"], length, environ.get("PATH_INFO", "")
            )
        return self.application(environ, start_response)
