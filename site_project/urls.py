from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from articles import editor_views
from site_project import health

handler400 = "site_project.errors.bad_request"
handler403 = "site_project.errors.permission_denied"
handler500 = "site_project.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.ready, name="health"),
    path("healthz/live", health.live, name="health-live"),
    # Browsers and feed readers ask for /favicon.ico whatever a page links.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.ico"))),
    # The markdownx editor's endpoints, ours instead of markdownx.urls (see editor_views).
    path("admin-tools/markdown/preview/", editor_views.preview, name="markdown-preview"),
    path("admin-tools/markdown/upload/", editor_views.upload_image, name="markdown-upload"),
    path("media/markdownx/<str:name>", editor_views.serve_uploaded_image, name="uploaded-image"),
    path("comments/", include("comments.urls")),
    path("", include("articles.urls")),
]
