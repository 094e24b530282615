"""/sitemap.xml: the home page, topic pages, every listed article, the site pages and people.

The sitemaps framework builds URLs from the request's host (or the Sites
framework); the public address is SITE_URL, so its scheme and host win here.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max, Q
from django.urls import reverse

from .models import Article, Topic
from .people import Person
from .reviews import MedicalReview


class SiteUrlSitemap(Sitemap):
    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc


class HomeSitemap(SiteUrlSitemap):
    changefreq = "daily"
    priority = 1.0

    def items(self):
        return ["articles:list"]

    def location(self, name):
        return reverse(name)

    def lastmod(self, name):
        if not hasattr(self, "_latest"):
            self._latest = Article.objects.listed().aggregate(latest=Max("updated_at"))["latest"]
        return self._latest


class ArticleSitemap(SiteUrlSitemap):
    changefreq = "weekly"
    priority = 0.8

    def items(self):
        return (
            Article.objects.listed()
            .only("slug", "kind", "updated_at")
            .order_by("-published_at", "-id")
        )

    def lastmod(self, article):
        return article.updated_at


class PageSitemap(SiteUrlSitemap):
    changefreq = "monthly"
    priority = 0.3

    def items(self):
        return Article.objects.site_pages().only("slug", "kind", "updated_at").order_by("title")

    def lastmod(self, page):
        return page.updated_at


class TopicSitemap(SiteUrlSitemap):
    changefreq = "weekly"
    priority = 0.5

    def items(self):
        return (
            Topic.objects.with_published_articles()
            .filter(published_count__gt=0)
            .only("slug")
            .order_by("name")
        )

    def lastmod(self, topic):
        return topic.last_updated


class PersonSitemap(SiteUrlSitemap):
    """The people who signed or medically reviewed a listed article."""

    changefreq = "monthly"
    priority = 0.3

    def items(self):
        listed = Article.objects.listed()
        return (
            Person.objects.filter(
                Q(articles__in=listed)
                | Q(reviews__status=MedicalReview.Status.APPROVED, reviews__article__in=listed)
            )
            .distinct()
            .only("name", "slug", "updated_at")
            .order_by("name")
        )

    def lastmod(self, person):
        return person.updated_at


SITEMAPS = {
    "home": HomeSitemap,
    "articles": ArticleSitemap,
    "topics": TopicSitemap,
    "pages": PageSitemap,
    "people": PersonSitemap,
}
