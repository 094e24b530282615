"""The markdownx editor's preview and image upload, for article editors only.

markdownx ships views of its own, but they accept anonymous requests and its
upload trusts the content type the client claims, so its urls are not
included; the widget posts here instead (MARKDOWNX_*_PATH in settings).
"""

import io
import logging
import uuid
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.http import require_POST
from django.views.static import serve
from PIL import Image, UnidentifiedImageError

from .markdown import markdownify

log = logging.getLogger(__name__)

# Pillow's own format names, and the extension each is stored under.
ALLOWED_IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png"}
MAX_IMAGE_PIXELS = 40_000_000


def editor_required(view):
    """Staff who may add or change articles; anonymous users go to the login page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (
            user.is_active
            and user.is_staff
            and (user.has_perm("articles.change_article") or user.has_perm("articles.add_article"))
        ):
            return HttpResponseForbidden("You do not have permission to edit articles.")
        return view(request, *args, **kwargs)

    return wrapper


@require_POST
@editor_required
def preview(request):
    html = markdownify(request.POST.get("content", ""))
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def _upload_error(message, status=400):
    return JsonResponse({"image": [message]}, status=status)


@require_POST
@editor_required
def upload_image(request):
    upload = request.FILES.get("image")
    if upload is None:
        return _upload_error("Choose a JPEG or PNG image to upload.")
    limit = settings.MARKDOWNX_UPLOAD_MAX_SIZE
    if upload.size > limit:
        return _upload_error(
            f"The image is too large: the limit is {limit // (1024 * 1024)} MB.", status=413
        )
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format
            width, height = probe.size
            probe.verify()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        log.info("refused an upload that is not a readable image: %r", upload.name)
        return _upload_error("This file is not a JPEG or PNG image, or it is damaged.")
    extension = ALLOWED_IMAGE_FORMATS.get(image_format)
    if extension is None:
        return _upload_error(f"Only JPEG and PNG images are accepted, not {image_format}.")
    if width * height > MAX_IMAGE_PIXELS:
        return _upload_error("The image has too many pixels; scale it down first.")

    # The name and extension are ours, never the client's.
    name = default_storage.save(
        f"{settings.MARKDOWNX_MEDIA_PATH}{uuid.uuid4().hex}.{extension}", ContentFile(data)
    )
    url = default_storage.url(name)
    return JsonResponse({"image_code": f"![]({url})"})


def serve_uploaded_image(request, name):
    """Uploaded images, and only those, always as images (nosniff)."""
    if "/" in name or name.rpartition(".")[2] not in ALLOWED_IMAGE_FORMATS.values():
        raise Http404("No such image.")
    response = serve(request, name, document_root=Path(settings.MEDIA_ROOT) / settings.MARKDOWNX_MEDIA_PATH)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
