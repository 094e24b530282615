from django.contrib import admin
from django.urls import include, path

from articles import editor_views
from site_project import health

handler400 = "site_project.errors.bad_request"
handler500 = "site_project.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.ready, name="health"),
    path("healthz/live", health.live, name="health-live"),
    # The markdownx editor's endpoints, ours instead of markdownx.urls (see editor_views).
    path("admin-tools/markdown/preview/", editor_views.preview, name="markdown-preview"),
    path("admin-tools/markdown/upload/", editor_views.upload_image, name="markdown-upload"),
    path("media/markdownx/<str:name>", editor_views.serve_uploaded_image, name="uploaded-image"),
    path("comments/", include("comments.urls")),
    path("", include("articles.urls")),
]
