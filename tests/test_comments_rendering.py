"""How approved comments appear under an article: threads, pages, text, counts, queries."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from comments.models import Comment, after_bulk_create
from comments.text import READER_LINK_REL
from tests.html_safety import unsafe_parts

REL = f'rel="{READER_LINK_REL}"'


def comments_section(response):
    html = response.content.decode()
    start = html.index('<section class="comments"')
    return html[start : html.index("</section>", start)]


def comment_ids(html):
    return [int(pk) for pk in re.findall(r'<li class="comment" id="comment-(\d+)"', html)]


def test_only_approved_comments_are_shown(client, article, make_comment):
    shown = make_comment(article, body="Approved words.")
    for status in ("pending", "spam", "rejected"):
        make_comment(article, body=f"Hidden {status} words.", status=status)
    section = comments_section(client.get(article.get_absolute_url()))
    assert comment_ids(section) == [shown.pk]
    assert "Hidden" not in section
    assert "1 comment</h2>" in section


def test_threads_nest_replies_in_order_with_balanced_lists(client, article, make_comment):
    now = timezone.now()
    first = make_comment(article, created_at=now - timedelta(hours=5))
    second = make_comment(article, created_at=now - timedelta(hours=4))
    reply = make_comment(article, parent=first, created_at=now - timedelta(hours=3))
    reply_to_reply = make_comment(article, parent=reply, created_at=now - timedelta(hours=2))
    late_reply = make_comment(article, parent=first, created_at=now - timedelta(hours=1))
    section = comments_section(client.get(article.get_absolute_url()))
    assert comment_ids(section) == [first.pk, reply.pk, reply_to_reply.pk, late_reply.pk, second.pk]
    assert section.count("<ol") == section.count("</ol>")
    assert section.count('<li class="comment"') == section.count("</li>")
    # reply_to_reply sits two lists deep inside the first thread.
    before = section[: section.index(f'id="comment-{reply_to_reply.pk}"')]
    assert before.count('<ol class="comment-replies">') - before.count("</ol>") == 2
    assert "5 comments</h2>" in section


def test_replies_to_hidden_comments_are_left_out(client, article, make_comment):
    root = make_comment(article)
    hidden = make_comment(article, parent=root, status=Comment.Status.REJECTED)
    orphan = make_comment(article, parent=hidden, body="Answer to a rejected comment.")
    section = comments_section(client.get(article.get_absolute_url()))
    assert comment_ids(section) == [root.pk]
    assert orphan.body not in section


@pytest.mark.parametrize(("max_depth", "replyable_depths"), [(3, {0, 1}), (2, {0}), (1, set())])
def test_reply_links_stop_at_the_depth_limit(
    client, article, make_comment, settings, max_depth, replyable_depths
):
    settings.COMMENTS_MAX_DEPTH = max_depth
    chain = [make_comment(article)]
    for _ in range(3):
        chain.append(make_comment(article, parent=chain[-1]))
    section = comments_section(client.get(article.get_absolute_url()))
    for depth, comment in enumerate(chain):
        assert (f"replyto={comment.pk}#respond" in section) is (depth in replyable_depths)


def test_comments_are_paginated_by_top_level_threads(client, article, make_comment, settings):
    settings.COMMENTS_PER_PAGE = 2
    now = timezone.now()
    roots = [make_comment(article, created_at=now - timedelta(hours=10 - n)) for n in range(5)]
    reply = make_comment(article, parent=roots[1], created_at=now)
    url = article.get_absolute_url()

    first = comments_section(client.get(url))
    assert comment_ids(first) == [roots[0].pk, roots[1].pk, reply.pk]
    assert "Comments page 1 of 3" in first
    assert f'href="{url}?cpage=2#comments" rel="next"' in first

    second = comments_section(client.get(url, {"cpage": 2}))
    assert comment_ids(second) == [roots[2].pk, roots[3].pk]
    assert f'href="{url}#comments" rel="prev"' in second
    assert f"?cpage=2&amp;replyto={roots[2].pk}#respond" in second

    last = comments_section(client.get(url, {"cpage": 3}))
    assert comment_ids(last) == [roots[4].pk]
    assert "6 comments</h2>" in last


@pytest.mark.parametrize(
    "cpage",
    [
        "0",
        "-1",
        "abc",
        "2",
        "999",
        "1.5",
        " 1",
        "1_0",
        "\u00b2",
        "\u0663",
        "99999999999999999999999",
        "",
    ],
)
def test_a_comment_page_that_does_not_exist_is_a_404(client, article, make_comment, cpage):
    make_comment(article)
    response = client.get(article.get_absolute_url(), {"cpage": cpage})
    assert response.status_code == 404
    assertContains(response, "Page not found", status_code=404)


def test_the_first_comment_page_can_be_named(client, article, make_comment):
    make_comment(article)
    response = client.get(article.get_absolute_url(), {"cpage": "1"})
    assert len(comment_ids(comments_section(response))) == 1


def test_reader_text_is_escaped_with_line_breaks_and_safe_links(client, article, make_comment):
    make_comment(
        article,
        name='<img src=x onerror="alert(1)">',
        body=(
            '<script>alert("hi")</script>\nSecond line\n'
            "See https://example.org/page?a=1&b=2 and www.example.net.\n"
            'javascript:alert(1) <a href="https://evil.example">x</a> ada@example.com'
        ),
    )
    section = comments_section(client.get(article.get_absolute_url()))
    assert unsafe_parts(section.split('<div id="respond"')[0]) == []
    assert "&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt;<br>Second line<br>" in section
    assert f'<a href="https://example.org/page?a=1&amp;b=2" {REL}>' in section
    assert f'<a href="http://www.example.net" {REL}>www.example.net</a>.' in section
    # Typed HTML stays text; only the bare address inside it becomes a (safe) link.
    assert "&lt;a href=&quot;<a " in section and "&quot;&gt;x&lt;/a&gt;" in section
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in section
    assert "mailto:" not in section
    links = re.findall(r"<a [^>]*href=\"http[^>]*>", section)
    assert links and all(REL in link for link in links)


@pytest.mark.parametrize(
    ("website", "linked"),
    [
        ("https://ada.example", True),
        ("http://ada.example", True),
        ("", False),
        ("javascript:alert(1)", False),
    ],
)
def test_the_commenters_name_links_to_their_website_only_over_http(
    client, article, make_comment, website, linked
):
    make_comment(article, name="Ada", website=website)
    section = comments_section(client.get(article.get_absolute_url()))
    assert (f'<a class="commenter" href="{website}" {REL}>Ada</a>' in section) is linked
    assert "javascript:" not in section


def test_no_gravatar_or_other_third_party_image(client, article, make_comment):
    make_comment(article, email="ada@example.com")
    html = client.get(article.get_absolute_url()).content.decode()
    assert "gravatar" not in html.lower()
    assert not re.search(r'<img[^>]+src="https?://', html)


def _queries_for(url):
    with CaptureQueriesContext(connection) as queries:
        response = Client().get(url)
    assert response.status_code == 200
    return len(queries)


def _add_threads(article, threads):
    """`threads` top-level comments each with a reply and a reply to that, in three bulk inserts."""
    now = timezone.now()
    common = {"article": article, "status": Comment.Status.APPROVED, "email": "x@example.com"}
    roots = Comment.objects.bulk_create(
        Comment(name=f"R{n}", body=f"root {n}", created_at=now, **common) for n in range(threads)
    )
    replies = Comment.objects.bulk_create(
        Comment(name="A", body="a", parent=r, thread=r, depth=1, created_at=now, **common)
        for r in roots
    )
    leaves = Comment.objects.bulk_create(
        Comment(name="B", body="b", parent=a, thread=a.thread, depth=2, created_at=now, **common)
        for a in replies
    )
    after_bulk_create([*roots, *replies, *leaves])


def test_the_article_page_query_count_does_not_grow_with_comments(
    article, django_assert_max_num_queries
):
    url = article.get_absolute_url()
    counts = {}
    for comments in (0, 50, 2000):
        # Three comments a thread: a top-level comment, a reply and a reply to that.
        _add_threads(article, comments // 3 - Comment.objects.filter(parent=None).count())
        cache.clear()  # rendered from scratch, as when the micro-cache has expired
        counts[comments] = _queries_for(url)
        counts[f"{comments} again"] = _queries_for(url)
    # An anonymous reader: at most 6 queries, the same for 50 and for 2,000
    # comments; the same page again within its lifetime comes from the cache.
    assert counts[50] == counts[2000]
    # The article with its author and last reviewer, its topics, its references,
    # its recommendations with the footer's site pages, the comment page with
    # its counts, and its medical review history.
    assert article.medical
    assert counts[0] <= counts[50] <= 6
    assert counts["0 again"] == counts["50 again"] == counts["2000 again"] == 0
    cache.clear()
    with django_assert_max_num_queries(6):
        response = Client().get(url, {"cpage": 3})
    assert len(comment_ids(comments_section(response))) == 150


def test_a_commenter_with_pending_comments_costs_two_more_queries(
    client, article, comment_form_data
):
    _add_threads(article, 60)
    anonymous = _queries_for(article.get_absolute_url())  # rendered, now kept
    client.post(f"/comments/post/{article.pk}/", comment_form_data(article))
    with CaptureQueriesContext(connection) as queries:
        client.get(article.get_absolute_url())
    # A visitor with a session gets the live page: the article's queries, then
    # the session and the visitor's own comments awaiting moderation.
    assert len(queries) == anonymous + 2


def test_the_heading_counts_approved_comments_only(client, article, make_article, make_comment):
    other = make_article()
    make_comment(article)
    make_comment(article, parent=make_comment(article))
    make_comment(article, status=Comment.Status.PENDING)
    make_comment(article, status=Comment.Status.SPAM)
    assert "3 comments</h2>" in comments_section(client.get(article.get_absolute_url()))
    assert '<h2 id="comments-heading">Comments</h2>' in comments_section(
        client.get(other.get_absolute_url())
    )


def test_a_closed_article_still_shows_its_comments(client, make_article, make_comment):
    closed = make_article(allow_comments=False)
    make_comment(closed, body="Kept after closing.")
    response = client.get(closed.get_absolute_url())
    assertContains(response, "Kept after closing.")
    assertNotContains(response, "Leave a Reply")


@pytest.mark.parametrize("cpage", [1, 40])
def test_any_comment_page_reads_its_threads_through_the_index(article, make_article, cpage):
    """The first and the last comment page make the same indexed query (no OR, no scan)."""
    from comments.threads import _PAGE_SQL, page_query_params

    _add_threads(article, 2000)  # 40 pages of 50 threads, 6,000 comments
    _add_threads(make_article(), 500)  # another article's threads are never read
    per_page = 50
    params = page_query_params(article.pk, cpage, per_page)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE comments_comment")
            cursor.execute("EXPLAIN " + _PAGE_SQL, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            # Indexes only. Which one finds the roots of a deep page depends on
            # the visibility map (an index-only scan once vacuumed): the scale
            # benchmark, vacuumed, reads comment_thread_roots_idx for every page.
            assert "Seq Scan" not in plan, plan
            assert "Index Cond: (thread_id = " in plan, plan
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + _PAGE_SQL, params)
            plan = "\n".join(row[-1] for row in cursor.fetchall())
            assert "SCAN comments_comment\n" not in plan + "\n", plan
            assert "comment_thread_roots_idx" in plan, plan
        cursor.execute(_PAGE_SQL, params)
        shown = cursor.fetchall()
    assert len(shown) == 3 * per_page
    assert {(total, threads) for total, threads, *_ in shown} == {(6000, 2000)}
    roots = [name for _, _, _, parent_id, name, _ in shown if parent_id is None]
    first = (cpage - 1) * per_page
    assert roots == [f"R{n}" for n in range(first, first + per_page)]
