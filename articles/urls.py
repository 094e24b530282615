from django.urls import path

from site_project.shared_pages import shared_page

from . import people_views, sitemaps, views
from .feeds import ArticleFeed, AtomArticleFeed, TopicFeed

app_name = "articles"

# Every page here is public: the same for every visitor without a session,
# so shared_page() lets Django's cache, nginx or a CDN keep it briefly.
urlpatterns = [
    path("", shared_page(views.ArticleListView.as_view()), name="list"),
    path("articles/<slug:slug>/", shared_page(views.ArticleDetailView.as_view()), name="detail"),
    path("pages/<slug:slug>/", shared_page(views.PageDetailView.as_view()), name="page"),
    path(
        "people/<slug:slug>/", shared_page(people_views.PersonDetailView.as_view()), name="person"
    ),
    path("feed/", shared_page(ArticleFeed()), name="feed"),
    path("feed/atom/", shared_page(AtomArticleFeed()), name="atom-feed"),
    path("topics/", shared_page(views.TopicListView.as_view()), name="topics"),
    path("topics/<slug:slug>/", shared_page(views.TopicDetailView.as_view()), name="topic"),
    path("topics/<slug:slug>/feed/", shared_page(TopicFeed()), name="topic-feed"),
    path("search/", shared_page(views.SearchView.as_view()), name="search"),
    path(
        "archive/<int:year>/",
        shared_page(views.ArticleYearArchiveView.as_view()),
        name="archive-year",
    ),
    path(
        "archive/<int:year>/<int:month>/",
        shared_page(views.ArticleMonthArchiveView.as_view()),
        name="archive-month",
    ),
    path("sitemap.xml", shared_page(sitemaps.index), name="sitemap"),
    path("sitemap-<slug:section>.xml", shared_page(sitemaps.section), name="sitemap-section"),
    path("robots.txt", shared_page(views.robots_txt), name="robots"),
]
