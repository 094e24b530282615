from django.contrib import admin
from django.urls import include, path

from articles import editor_views

urlpatterns = [
    path("admin/", admin.site.urls),
    # The markdownx editor's endpoints, ours instead of markdownx.urls (see editor_views).
    path("admin-tools/markdown/preview/", editor_views.preview, name="markdown-preview"),
    path("admin-tools/markdown/upload/", editor_views.upload_image, name="markdown-upload"),
    path("media/markdownx/<str:name>", editor_views.serve_uploaded_image, name="uploaded-image"),
    path("", include("articles.urls")),
]
