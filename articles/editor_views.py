"""The markdownx editor's preview and image upload, for article editors only.

markdownx ships views of its own, but they accept anonymous requests and its
upload trusts the content type the client claims, so its urls are not
included; the widget posts here instead (MARKDOWNX_*_PATH in settings).
"""

import logging
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404, HttpResponse, HttpResponseForbidden, JsonResponse
from django.views.decorators.http import require_POST
from django.views.static import serve

from .images import ImageRefused, clean_upload, is_stored_name, upload_path
from .markdown import markdownify

log = logging.getLogger(__name__)


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
    """Store an image for an article's text; answer with its address and size as JSON."""
    upload = request.FILES.get("image")
    if upload is None:
        return _upload_error("Choose a JPEG or PNG image to upload.")
    try:
        image = clean_upload(upload)
    except ImageRefused as refused:
        log.info("refused an image upload: %s (%r)", refused, upload.name)
        return _upload_error(str(refused), status=refused.status)
    name = default_storage.save(upload_path(image.filename), ContentFile(image.data))
    url = default_storage.url(name)
    # The alternative text is the editor's to write: the editor's script asks
    # for it; markdownx's own drop handler inserts this code as it is, and an
    # article with an image without alternative text cannot be saved.
    return JsonResponse(
        {"image_code": f"![]({url})", "url": url, "width": image.width, "height": image.height}
    )


def serve_uploaded_image(request, name):
    """Uploaded images, and only those, always as images (nosniff)."""
    if not is_stored_name(name):
        raise Http404("No such image.")
    response = serve(
        request, name, document_root=Path(settings.MEDIA_ROOT) / settings.MARKDOWNX_MEDIA_PATH
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
