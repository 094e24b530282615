"""The comment form has no token: a cross-site POST is refused by what the browser says of it."""

import logging

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains

from comments.models import Comment

SITE = "https://blog.example.org"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


def post(article, data, **headers):
    return Client().post(reverse("comments:post", args=[article.pk]), data, headers=headers)


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "cross-site", "Origin": SITE},
        {"Origin": "https://evil.example"},
        {"Origin": "https://blog.example.org.evil.example"},
        {"Origin": "http://blog.example.org"},  # another scheme is another origin
        {"Origin": "null"},  # a sandboxed frame or a data: page
    ],
    ids=["cross-site", "same-site", "cross-site-claiming-origin", "foreign-origin",
         "lookalike-origin", "other-scheme", "null-origin"],
)  # fmt: skip
def test_a_cross_origin_post_gets_a_styled_403_and_saves_nothing(
    article, comment_form_data, caplog, headers
):
    caplog.set_level(logging.INFO, logger="site_project.cross_origin")
    response = post(article, comment_form_data(article), **headers)
    assert response.status_code == 403
    assertContains(response, "Your form could not be sent", status_code=403)
    assertContains(response, "sent from another website", status_code=403)
    assert not Comment.objects.exists()
    [record] = [r for r in caplog.records if getattr(r, "event", "") == "cross_origin_refused"]
    assert record.path == reverse("comments:post", args=[article.pk])


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin", "Origin": SITE},
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},  # typed or bookmarked by the user
        {"Origin": SITE},  # an older browser without Fetch Metadata
        {"Origin": "http://testserver"},  # the host the request was addressed to
        {},  # not a browser: the spam rules and moderation deal with it
    ],
    ids=["same-origin", "same-origin-no-origin", "user-initiated", "site-origin",
         "request-host", "no-headers"],
)  # fmt: skip
def test_a_same_origin_or_non_browser_post_goes_through(article, comment_form_data, headers):
    response = post(article, comment_form_data(article), **headers)
    assert response.status_code == 302
    assert Comment.objects.count() == 1


def test_a_refused_post_tells_nothing_about_the_article_state(make_article, comment_form_data):
    """The origin check runs first: a closed or missing article answers the same 403."""
    closed = make_article(allow_comments=False)
    for article_id in (closed.pk, 999_999):
        response = Client().post(
            reverse("comments:post", args=[article_id]),
            comment_form_data(closed),
            headers={"Sec-Fetch-Site": "cross-site"},
        )
        assert response.status_code == 403
        assertContains(response, "sent from another website", status_code=403)


def test_the_admin_log_in_keeps_djangos_token_check(db):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        reverse("admin:login"),
        {"username": "someone", "password": "x"},
        headers={"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
    )
    assert response.status_code == 403
