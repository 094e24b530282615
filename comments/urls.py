from django.urls import path

from site_project.shared_pages import shared_page

from . import views
from .feeds import ArticleCommentsFeed

app_name = "comments"

urlpatterns = [
    path("post/<int:article_id>/", views.post_comment, name="post"),
    # Public like the article pages: one copy for every visitor without a session.
    path("feed/<slug:slug>/", shared_page(ArticleCommentsFeed()), name="feed"),
    # Reached through signed links in emails: never cached, never shared.
    path("confirm/<str:token>/", views.confirm_address, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
