"""RSS and Atom feeds of published articles, for the whole site and per topic.

Every link is absolute on SITE_URL (add_domain leaves absolute URLs alone), so
the feed names the public site whatever host name the request used.
"""

import re

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from site_project.context_processors import SITE_NAME

from .models import Article, Topic
from .structured_data import absolute_url

FEED_LENGTH = 20
# XML 1.0 cannot carry these; editors paste them (Word's manual line break is U+000B).
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def feed_text(text):
    """Text as a feed may carry it: characters XML forbids become spaces."""
    return _NOT_XML.sub(" ", text)


class ArticleFeed(Feed):
    title = SITE_NAME
    description = "Plain-language guides about acne treatment, reviewed for accuracy."
    language = "en-gb"

    def link(self):
        return absolute_url(reverse("articles:list"))

    def feed_url(self):
        return absolute_url(reverse("articles:feed"))

    def articles(self):
        return (
            Article.objects.listed()
            .select_related("author")
            .prefetch_related("topics")
            .defer("body", "body_html", "toc_html")
        )

    def items(self):
        return self.articles()[:FEED_LENGTH]

    def item_title(self, article):
        return feed_text(article.title)

    def item_description(self, article):
        # The summary is plain text; readers treat a description as HTML.
        return escape(feed_text(article.summary))

    def item_link(self, article):
        return absolute_url(article.get_absolute_url())

    def item_pubdate(self, article):
        return article.published_at

    def item_updateddate(self, article):
        return article.updated_at

    def item_author_name(self, article):
        if article.author.is_team:
            return SITE_NAME
        return feed_text(article.author.name)

    def item_author_link(self, article):
        return absolute_url(article.author.get_absolute_url())

    def item_categories(self, article):
        return [feed_text(topic.name) for topic in article.topics.all()]


class AtomArticleFeed(ArticleFeed):
    feed_type = Atom1Feed
    subtitle = ArticleFeed.description

    def feed_url(self):
        return absolute_url(reverse("articles:atom-feed"))


class TopicFeed(ArticleFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Topic, slug=slug)

    def title(self, topic):
        return feed_text(f"{topic.name} · {SITE_NAME}")

    def description(self, topic):
        # Plain text, escaped like the items' descriptions: readers treat it as HTML.
        return escape(feed_text(topic.description or f"Articles about {topic.name}."))

    def link(self, topic):
        return absolute_url(topic.get_absolute_url())

    def feed_url(self, topic):
        return absolute_url(reverse("articles:topic-feed", kwargs={"slug": topic.slug}))

    def items(self, topic):
        return self.articles().filter(topics=topic)[:FEED_LENGTH]
