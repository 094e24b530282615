"""Error pages look like the site (the admin's like the admin), and the favicon is answered."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import reverse
from pytest_django.asserts import assertContains

from site_project.errors import permission_denied

SITE_STYLE = "/static/css/site.css"
ADMIN_STYLE = "/static/admin/css/base.css"


@pytest.mark.django_db
def test_a_bad_request_gets_the_styled_400_page(client):
    response = client.get("/", HTTP_HOST="not-our-site.example")
    assert response.status_code == 400
    assertContains(response, "This request could not be understood", status_code=400)
    assertContains(response, SITE_STYLE, status_code=400)
    assertContains(response, "Clear Skin Notes", status_code=400)


@pytest.mark.django_db
def test_a_forbidden_public_page_gets_the_styled_403_page():
    response = permission_denied(RequestFactory().get("/somewhere/"), PermissionDenied())
    assert response.status_code == 403
    html = response.content.decode()
    assert "You cannot see this page" in html and SITE_STYLE in html


@pytest.mark.django_db
def test_an_editor_on_the_comments_admin_gets_the_admins_own_403_page(editor_client):
    response = editor_client.get(reverse("admin:comments_comment_changelist"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "You do not have permission to see this page" in html
    assert ADMIN_STYLE in html and reverse("admin:index") in html  # the admin's look and menus
    assert "403 Forbidden" not in html


@pytest.mark.django_db
def test_a_moderator_still_reaches_the_comments_admin(moderator_client):
    assert moderator_client.get(reverse("admin:comments_comment_changelist")).status_code == 200


@pytest.mark.django_db
def test_the_log_in_lockout_is_a_styled_429_page(editor):
    client = Client()
    for _ in range(5):
        response = client.post("/admin/login/", {"username": "editor", "password": "wrong"})
    assert response.status_code == 429
    assertContains(response, "Too many failed log-ins", status_code=429)
    assertContains(response, SITE_STYLE, status_code=429)


@pytest.mark.django_db
def test_every_page_links_the_favicon_and_favicon_ico_is_answered(client, article):
    html = client.get(article.get_absolute_url()).content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    assert '<link rel="icon" href="/static/favicon.ico" sizes="48x48">' in html

    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.ico"
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
