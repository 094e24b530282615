from django.contrib.sitemaps.views import sitemap
from django.urls import path

from . import views
from .feeds import ArticleFeed, AtomArticleFeed, TopicFeed
from .sitemaps import SITEMAPS

app_name = "articles"

urlpatterns = [
    path("", views.ArticleListView.as_view(), name="list"),
    path("articles/<slug:slug>/", views.ArticleDetailView.as_view(), name="detail"),
    path("pages/<slug:slug>/", views.PageDetailView.as_view(), name="page"),
    path("feed/", ArticleFeed(), name="feed"),
    path("feed/atom/", AtomArticleFeed(), name="atom-feed"),
    path("topics/", views.TopicListView.as_view(), name="topics"),
    path("topics/<slug:slug>/", views.TopicDetailView.as_view(), name="topic"),
    path("topics/<slug:slug>/feed/", TopicFeed(), name="topic-feed"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("archive/<int:year>/", views.ArticleYearArchiveView.as_view(), name="archive-year"),
    path(
        "archive/<int:year>/<int:month>/",
        views.ArticleMonthArchiveView.as_view(),
        name="archive-month",
    ),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots"),
]
