"""A feed of each article's approved comments (as WordPress has), linked from its <head>.

Names and text only: a commenter's email is never given to the feed
framework (no item_author_email), and only approved comments are read.
"""

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse

from articles.feeds import feed_text
from articles.models import Article
from articles.structured_data import absolute_url
from site_project.context_processors import SITE_NAME

from .models import Comment
from .text import render_comment_text

FEED_LENGTH = 30


class ArticleCommentsFeed(Feed):
    language = "en-gb"

    def get_object(self, request, slug):
        return get_object_or_404(Article.objects.published().only("id", "title", "slug"), slug=slug)

    def title(self, article):
        return feed_text(f"Comments on “{article.title}” · {SITE_NAME}")

    def description(self, article):
        return feed_text(f"The newest approved comments on “{article.title}”.")

    def link(self, article):
        return absolute_url(article.get_absolute_url() + "#comments")

    def feed_url(self, article):
        return absolute_url(reverse("comments:feed", args=[article.slug]))

    def items(self, article):
        comments = list(
            Comment.objects.approved()
            .public_fields()
            .filter(article=article)
            .order_by("-created_at", "-id")[:FEED_LENGTH]
        )
        for comment in comments:
            comment.article = article  # known already: no query per item for its URL
        return comments

    def item_title(self, comment):
        return feed_text(f"Comment by {comment.name}")

    def item_description(self, comment):
        # Escaped by render_comment_text; readers treat a description as HTML.
        return feed_text(render_comment_text(comment.body))

    def item_link(self, comment):
        return absolute_url(comment.get_absolute_url())

    def item_author_name(self, comment):
        return feed_text(comment.name)

    def item_pubdate(self, comment):
        return comment.created_at
