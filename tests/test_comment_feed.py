"""Each article's comment feed: approved comments only, names without emails, linked from <head>."""

import re
import xml.etree.ElementTree as ET

from django.test import Client
from django.urls import reverse

from comments.models import Comment


def feed_url(article):
    return reverse("comments:feed", args=[article.slug])


def test_the_feed_has_the_approved_comments_with_names_and_no_email(
    article, make_comment, settings
):
    settings.SITE_URL = "https://blog.example"
    shown = make_comment(
        article, name="Ada", email="ada.secret@example.com", body="Approved & shown <b>."
    )
    make_comment(
        article, name="Held", email="held@example.com", body="Still pending.", status="pending"
    )
    make_comment(article, name="Bot", email="bot@example.com", body="Spam.", status="spam")
    response = Client().get(feed_url(article))
    assert response.status_code == 200
    xml = response.content.decode()
    root = ET.fromstring(response.content)
    items = root.findall("./channel/item")
    assert [item.findtext("title") for item in items] == ["Comment by Ada"]
    assert (
        items[0].findtext("link")
        == f"https://blog.example{article.get_absolute_url()}#comment-{shown.pk}"
    )
    assert "Approved &amp;amp; shown &amp;lt;b&amp;gt;." in xml  # escaped text, as HTML in XML
    for secret in ("@example.com", "Still pending.", "Spam.", "203.0.113.7"):
        assert secret not in xml


def test_the_feed_is_linked_from_the_articles_head(article):
    html = Client().get(article.get_absolute_url()).content.decode()
    head = html[: html.index("</head>")]
    assert re.search(
        rf'<link rel="alternate" type="application/rss\+xml" title="Comments on “{article.title}” \(RSS\)" href="{feed_url(article)}">',
        head,
    )


def test_the_feed_is_a_shared_public_page(article, make_comment):
    make_comment(article)
    first, second = Client().get(feed_url(article)), Client().get(feed_url(article))
    assert first.content == second.content
    assert "public" in first["Cache-Control"] and "s-maxage" in first["Cache-Control"]
    assert "Cookie" not in first.get("Vary", "") and not first.cookies


def test_no_feed_for_a_draft_or_unknown_article(draft, db):
    assert Client().get(feed_url(draft)).status_code == 404
    assert Client().get(reverse("comments:feed", args=["no-such-article"])).status_code == 404


def test_the_feed_reads_a_constant_number_of_queries(
    article, make_comment, django_assert_max_num_queries
):
    for _ in range(40):
        make_comment(article)
    with django_assert_max_num_queries(3):
        Client().get(feed_url(article))
    assert Comment.objects.count() == 40
