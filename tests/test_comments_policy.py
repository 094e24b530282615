"""The moderation rules: one function decides a new comment's status and says why."""

import logging
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from comments.models import Comment, DisallowedWord
from comments.policy import DUPLICATE, FLOOD, HELD_BY_DEFAULT, assess, comments_open


@pytest.fixture
def new_comment(article):
    def make(**fields):
        values = {
            "article": article,
            "name": "Ada",
            "email": "ada@example.com",
            "body": "A thoughtful comment.",
            "ip_address": "203.0.113.1",
        }
        values.update(fields)
        return Comment(**values)

    return make


def test_everything_is_held_by_default(new_comment):
    verdict = assess(new_comment())
    assert (verdict.status, verdict.reason) == (Comment.Status.PENDING, HELD_BY_DEFAULT)
    assert HELD_BY_DEFAULT == "Held for moderation (all comments are)."


@pytest.mark.parametrize(
    ("body", "held_for_links"),
    [
        ("one https://a.example and two http://b.example", False),
        ("https://a.example https://b.example www.c.example", True),
        ("a.example.com b.example.org c.example.net", True),
        ("plain text, no links at all", False),
    ],
)
def test_more_than_max_links_is_held_with_that_reason(new_comment, body, held_for_links):
    verdict = assess(new_comment(body=body))
    assert verdict.status == Comment.Status.PENDING
    assert ("links (more than 2)" in verdict.reason) is held_for_links


def test_the_link_limit_comes_from_settings(new_comment, settings):
    settings.COMMENTS_MAX_LINKS = 0
    assert (
        assess(new_comment(body="see https://a.example")).reason
        == "Contains 1 links (more than 0)."
    )


@pytest.mark.parametrize(
    ("words_setting", "model_words", "fields", "found"),
    [
        (["casino"], [], {"body": "Best CASINO bonuses"}, "casino"),
        ([], ["cheap pills"], {"body": "Buy Cheap\nPills now"}, "cheap pills"),
        ([], ["viagra"], {"name": "Viagra Shop"}, "viagra"),
        ([], ["spamsite"], {"website": "https://spamsite.example"}, "spamsite"),
        (["casino"], [], {"body": "occasional casinos? no: occasion"}, None),
        ([], [], {"body": "anything"}, None),
    ],
)
def test_disallowed_words_mark_spam(
    new_comment, settings, words_setting, model_words, fields, found
):
    settings.COMMENTS_DISALLOWED_WORDS = words_setting
    for word in model_words:
        DisallowedWord.objects.create(word=word)
    verdict = assess(new_comment(**fields))
    if found:
        assert verdict.status == Comment.Status.SPAM
        assert verdict.reason == f"Contains the disallowed word “{found}”."
    else:
        assert verdict.status == Comment.Status.PENDING


def test_spam_with_many_links_gives_both_reasons(new_comment, settings):
    settings.COMMENTS_DISALLOWED_WORDS = ["casino"]
    verdict = assess(
        new_comment(body="casino https://a.example https://b.example https://c.example")
    )
    assert verdict.status == Comment.Status.SPAM
    assert "disallowed word" in verdict.reason and "3 links" in verdict.reason


def test_returning_commenters_are_not_auto_approved_by_default(article, new_comment, make_comment):
    make_comment(article, email="ada@example.com", status=Comment.Status.APPROVED)
    assert assess(new_comment()).status == Comment.Status.PENDING


@pytest.mark.parametrize(
    ("earlier_status", "earlier_email", "body", "expected"),
    [
        ("approved", "ADA@example.com", "Hello again.", "approved"),
        ("pending", "ada@example.com", "Hello again.", "pending"),
        ("rejected", "ada@example.com", "Hello again.", "pending"),
        ("approved", "someone@example.com", "Hello again.", "pending"),
        ("approved", "ada@example.com", "https://a.ex https://b.ex https://c.ex", "pending"),
    ],
)
def test_auto_approving_returning_commenters_when_switched_on(
    article, new_comment, make_comment, settings, earlier_status, earlier_email, body, expected
):
    settings.COMMENTS_AUTO_APPROVE_RETURNING = True
    make_comment(article, email=earlier_email, status=earlier_status, body="Earlier.")
    assert assess(new_comment(body=body)).status == expected


def test_an_auto_approved_comment_is_published_at_once(
    client, article, make_comment, settings, comment_form_data
):
    settings.COMMENTS_AUTO_APPROVE_RETURNING = True
    make_comment(article, email="ada@example.com", body="Earlier.")
    response = client.post(reverse("comments:post", args=[article.pk]), comment_form_data(article))
    assert response.status_code == 302
    assertContains(Client().get(article.get_absolute_url()), "Thank you, this helped me")


def test_a_duplicate_from_the_same_session_is_refused(article, make_comment, new_comment):
    earlier = make_comment(
        article, email="ada@example.com", body="A thoughtful comment.", status="rejected"
    )
    verdict = assess(new_comment(email="Ada@Example.com"), own_comment_ids=[earlier.pk])
    assert verdict.refused and verdict.refusal == DUPLICATE


def test_a_duplicate_from_anyone_else_goes_quietly_to_spam(article, make_comment, new_comment):
    earlier = make_comment(article, email="ada@example.com", body="A thoughtful comment.")
    verdict = assess(new_comment(email="Ada@Example.com"), own_comment_ids=[earlier.pk + 1])
    assert not verdict.refused
    assert verdict.status == Comment.Status.SPAM
    assert f"comment #{earlier.pk}" in verdict.reason


def test_flood_counts_per_ip_and_per_email(new_comment, settings):
    settings.COMMENTS_FLOOD_LIMIT = 2
    for n in range(2):
        assert not assess(new_comment(body=f"{n}", email=f"{n}@example.com")).refused
    verdict = assess(new_comment(body="third", email="third@example.com"))
    assert verdict.refused and verdict.refusal == FLOOD
    # Another address with a fresh email is not held back by someone else's flood.
    assert not assess(
        new_comment(body="x", email="x@example.com", ip_address="203.0.113.99")
    ).refused


def test_the_flood_window_expires(new_comment, settings):
    settings.COMMENTS_FLOOD_LIMIT = 1
    assert not assess(new_comment(body="1")).refused
    assert assess(new_comment(body="2")).refused
    cache.clear()  # what the window's expiry does
    assert not assess(new_comment(body="3")).refused


def test_the_flood_counter_keeps_no_address_in_the_cache(new_comment):
    assess(new_comment())
    keys = " ".join(str(key) for key in cache._cache)  # the local-memory cache's own store
    assert "comments:flood:" in keys
    assert "ada@example.com" not in keys and "203.0.113.1" not in keys


class BrokenCache:
    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("cache is down")

        return fail


def test_a_broken_cache_lets_comments_through_and_logs_a_warning(
    client, article, comment_form_data, monkeypatch, caplog
):
    monkeypatch.setattr("comments.policy.cache", BrokenCache())
    with caplog.at_level(logging.WARNING, logger="comments.policy"):
        for n in range(5):
            response = client.post(
                reverse("comments:post", args=[article.pk]), comment_form_data(article, body=f"{n}")
            )
            assert response.status_code == 302
    assert Comment.objects.count() == 5
    assert any("Flood check skipped" in r.getMessage() for r in caplog.records)


def test_spam_is_saved_as_spam_never_shown_and_the_sender_is_not_told(
    client, article, comment_form_data, settings
):
    settings.COMMENTS_DISALLOWED_WORDS = ["casino"]
    response = client.post(
        reverse("comments:post", args=[article.pk]), comment_form_data(article, body="casino time")
    )
    assert response.status_code == 302
    assert Comment.objects.get().status == Comment.Status.SPAM
    assertNotContains(Client().get(article.get_absolute_url()), "casino time")


@pytest.mark.parametrize(
    ("allow", "days_old", "close_after", "is_open"),
    [
        (True, 400, None, True),
        (False, 1, None, False),
        (True, 10, 14, True),
        (True, 15, 14, False),
    ],
)
def test_comments_open(make_article, settings, allow, days_old, close_after, is_open):
    settings.COMMENTS_CLOSE_AFTER_DAYS = close_after
    article = make_article(
        allow_comments=allow, published_at=timezone.now() - timedelta(days=days_old)
    )
    assert comments_open(article) is is_open


def test_drafts_are_never_open(draft):
    assert comments_open(draft) is False


# Blocked senders and IPv6 senders


@pytest.mark.parametrize(
    ("kind", "value", "sender", "blocked"),
    [
        ("email", "ada@example.com", {"email": "ADA@example.com"}, True),
        ("email", "ada@example.com", {"email": "bob@example.com"}, False),
        ("domain", "example.com", {"email": "bob@example.com"}, True),
        ("domain", "example.com", {"email": "bob@mail.example.com"}, True),
        ("domain", "example.com", {"email": "bob@notexample.com"}, False),
        ("ip", "203.0.113.1/32", {"ip_address": "203.0.113.1"}, True),
        ("ip", "203.0.113.1/32", {"ip_address": "203.0.113.2"}, False),
        ("ip", "203.0.113.0/24", {"ip_address": "203.0.113.200"}, True),
        ("ip", "2001:db8:1:2::/64", {"ip_address": "2001:db8:1:2:ffff::9"}, True),
        ("ip", "2001:db8:1:2::/64", {"ip_address": "2001:db8:1:3::9"}, False),
    ],
)
def test_a_blocked_sender_goes_to_spam_with_that_reason(new_comment, kind, value, sender, blocked):
    from comments.models import BlockedSender

    BlockedSender.objects.create(kind=kind, value=value)
    verdict = assess(new_comment(**sender))
    assert (verdict.status == Comment.Status.SPAM) is blocked
    if blocked:
        assert verdict.reason.startswith("Blocked sender") and value in verdict.reason


def test_an_ipv6_block_from_a_comment_covers_its_64(new_comment):
    from comments.blocks import normalise_block

    assert normalise_block("ip", "2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert normalise_block("ip", "203.0.113.9") == "203.0.113.9/32"
    assert normalise_block("domain", "@Example.COM.") == "example.com"
    for bad in ("", "not-an-ip"):
        with pytest.raises(ValueError):
            normalise_block("ip", bad)


def test_the_flood_limit_counts_an_ipv6_64_as_one_sender(new_comment, settings):
    settings.COMMENTS_FLOOD_LIMIT = 2
    for n in range(2):
        verdict = assess(
            new_comment(body=f"{n}", email=f"{n}@example.com", ip_address=f"2001:db8:9:9::{n + 1}")
        )
        assert not verdict.refused
    verdict = assess(
        new_comment(body="3", email="3@example.com", ip_address="2001:db8:9:9:abcd::1")
    )
    assert verdict.refusal == FLOOD
    # The next /64 is someone else.
    assert not assess(
        new_comment(body="4", email="4@example.com", ip_address="2001:db8:9:a::1")
    ).refused
