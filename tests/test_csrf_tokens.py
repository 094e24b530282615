"""The CSRF token a cached page carries: Django's own check accepts it, for its own visitor only."""

import re
from collections import Counter

import pytest
from django.middleware.csrf import CSRF_ALLOWED_CHARS
from django.test import Client

from comments.models import Comment
from site_project.csrf_tokens import random_indices

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def cached_page_token(client, article):
    response = client.get(article.get_absolute_url())
    assert (
        response["X-Page-Cache"] == "hit"
    )  # the token was filled in by the cache, not the template
    return TOKEN.search(response.content.decode()).group(1)


def post_comment(client, article, token, comment_form_data, body):
    data = comment_form_data(article, body=body, csrfmiddlewaretoken=token)
    return client.post(f"/comments/post/{article.pk}/", data)


@pytest.fixture
def cached_article(article):
    Client().get(article.get_absolute_url())  # the first reader fills the cache
    return article


def test_a_first_visitor_gets_a_cookie_and_a_token_that_post_a_comment(
    cached_article, comment_form_data
):
    reader = Client(enforce_csrf_checks=True)
    token = cached_page_token(reader, cached_article)
    assert re.fullmatch(r"[A-Za-z0-9]{64}", token)
    assert re.fullmatch(r"[A-Za-z0-9]{32}", reader.cookies["csrftoken"].value)

    response = post_comment(
        reader, cached_article, token, comment_form_data, "Posted from a cached page."
    )
    assert response.status_code == 302
    assert Comment.objects.filter(body="Posted from a cached page.").exists()


def test_a_returning_visitor_keeps_their_cookie_and_gets_a_new_mask_each_time(
    cached_article, comment_form_data
):
    reader = Client(enforce_csrf_checks=True)
    cached_page_token(reader, cached_article)
    cookie = reader.cookies["csrftoken"].value

    first, second = (
        cached_page_token(reader, cached_article),
        cached_page_token(reader, cached_article),
    )
    assert reader.cookies["csrftoken"].value == cookie
    assert first != second  # masked afresh, so the page never repeats a secret (BREACH)
    assert (
        post_comment(reader, cached_article, first, comment_form_data, "First tab.").status_code
        == 302
    )
    assert (
        post_comment(reader, cached_article, second, comment_form_data, "Second tab.").status_code
        == 302
    )


def test_another_visitors_token_is_refused(cached_article, comment_form_data):
    victim, attacker = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    cached_page_token(attacker, cached_article)
    token = cached_page_token(victim, cached_article)

    response = post_comment(attacker, cached_article, token, comment_form_data, "Forged.")
    assert response.status_code == 403
    assert not Comment.objects.filter(body="Forged.").exists()


def test_every_letter_is_equally_likely():
    draws = Counter(index for _ in range(4000) for index in random_indices(31))
    assert set(draws) == set(range(len(CSRF_ALLOWED_CHARS)))
    expected = sum(draws.values()) / len(CSRF_ALLOWED_CHARS)  # 2,000 each
    chi_square = sum((count - expected) ** 2 / expected for count in draws.values())
    # 61 degrees of freedom: above 140 happens by chance about once in 10^8 runs;
    # taking bytes modulo 62 without throwing the top ones away scores about 800.
    assert chi_square < 140
