"""/sitemap.xml: an index of sitemap pages for the home page, topics, listed articles,
the site pages and people.

Django's sitemaps framework pages each section (`limit` URLs a page, far
below the protocol's 50,000) and its index view lists every page of every
section, so no URL is ever dropped however large the site grows, and each
page costs the same to build. Article pages are in publication order, oldest
first, so a new article only ever changes the last page.

The framework builds URLs from the request's host (or the Sites framework);
the public address is SITE_URL, so its scheme and host win here.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.db.models import Max
from django.urls import reverse

from site_project.pagination import requested_page

from . import browse
from .models import Article
from .people import Person
from .structured_data import absolute_url

# URLs per sitemap page: each page costs the same to build and to fetch
# (about 150 KB). The protocol allows 50,000; Yoast SEO uses 1,000.
URLS_PER_PAGE = 1000


def _latest_update():
    """The newest change to a listed article (from article_listed_idx alone)."""
    return Article.objects.listed().aggregate(latest=Max("updated_at"))["latest"]


class SiteUrlSitemap(Sitemap):
    limit = URLS_PER_PAGE

    def get_latest_lastmod(self):
        # The index would give every page of a section one date, the newest
        # change anywhere in it: one more read of every published article per
        # fetch of the index, telling a crawler less than each URL's own date.
        return None

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
        return _latest_update()


class ArticleSitemap(SiteUrlSitemap):
    changefreq = "weekly"
    priority = 0.8

    def items(self):
        return (
            Article.objects.listed()
            .only("slug", "kind", "updated_at")
            .order_by("published_at", "id")
        )

    def lastmod(self, article):
        return article.updated_at

    @property
    def paginator(self):
        # How many articles there are, from the kept month counts (articles/browse.py)
        # rather than a count of every listed article on each fetch of the index.
        paginator = super().paginator
        paginator.count = sum(count for _, count in browse.archive_months())
        return paginator


class PageSitemap(SiteUrlSitemap):
    changefreq = "monthly"
    priority = 0.3

    def items(self):
        return Article.objects.site_pages().only("slug", "kind", "updated_at").order_by("title")

    def lastmod(self, page):
        return page.updated_at


class TopicSitemap(SiteUrlSitemap):
    """Topic pages, without a last-modified date.

    A topic's date would be the newest change among its published articles:
    every link of every topic read per fetch (135 ms at 20,000 articles), or
    a kept date that a scheduled article would move before it appears.
    WordPress's core sitemaps leave it out for taxonomy pages too; the
    articles carry theirs.
    """

    changefreq = "weekly"
    priority = 0.5

    def items(self):
        return browse.topics()


class PersonSitemap(SiteUrlSitemap):
    """Every person's page (each is public): a small table, counted without reading articles."""

    changefreq = "monthly"
    priority = 0.3

    def items(self):
        return Person.objects.only("name", "slug", "updated_at").order_by("name", "pk")

    def lastmod(self, person):
        return person.updated_at


SITEMAPS = {
    "home": HomeSitemap,
    "articles": ArticleSitemap,
    "topics": TopicSitemap,
    "pages": PageSitemap,
    "people": PersonSitemap,
}


def index(request):
    """The sitemap index: every page of every section, on SITE_URL."""
    response = sitemap_views.index(request, SITEMAPS, sitemap_url_name="articles:sitemap-section")
    for item in response.context_data["sitemaps"]:
        parts = urlsplit(item.location)
        item.location = absolute_url(parts.path + (f"?{parts.query}" if parts.query else ""))
    return response


def section(request, section):
    """One page of one section; a page number that is not plain ASCII digits is a 404."""
    requested_page(request, "p")
    return sitemap_views.sitemap(request, SITEMAPS, section=section)
