"""“Edit this article” on public pages: for staff who may change it, and never in a shared copy."""

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import Client, RequestFactory
from pytest_django.asserts import assertContains, assertNotContains

from articles.models import Article


class UserNeverRead:
    """A request.user that fails the test if anything looks at it."""

    def __getattr__(self, name):
        raise AssertionError("request.user was read for a request without a session cookie")


def render_edit_link(request, article):
    template = Template("{% load articles_tags %}{% edit_link article %}")
    return template.render(Context({"request": request, "article": article}))


@pytest.mark.django_db
class TestWhoSeesIt:
    def test_an_editor_sees_a_link_to_the_articles_admin_page(self, editor_client, article):
        response = editor_client.get(article.get_absolute_url())
        assertContains(
            response,
            f'<p class="edit-link"><a href="/admin/articles/article/{article.pk}/change/">Edit this article</a></p>',
            html=True,
        )

    def test_on_a_site_page_it_says_page(self, editor_client, make_article):
        page = make_article(title="Contact", slug="contact", kind=Article.Kind.PAGE)
        assertContains(editor_client.get(page.get_absolute_url()), "Edit this page")

    def test_an_anonymous_reader_never_sees_it(self, article):
        response = Client().get(article.get_absolute_url())
        assert response.status_code == 200
        assertNotContains(response, "Edit this")
        assertNotContains(response, "/admin/")

    def test_staff_who_may_not_change_articles_do_not_see_it(self, client, moderator, article):
        client.force_login(moderator)
        assertNotContains(client.get(article.get_absolute_url()), "Edit this")

    def test_a_stale_session_cookie_shows_nothing(self, article):
        reader = Client()
        reader.cookies[settings.SESSION_COOKIE_NAME] = "no-such-session"
        assertNotContains(reader.get(article.get_absolute_url()), "Edit this")


@pytest.mark.django_db
def test_without_a_session_cookie_the_user_is_never_read(article):
    # Reading request.user reads the session and adds "Vary: Cookie": the shared
    # copy anonymous readers get must not depend on who asked first.
    request = RequestFactory().get(article.get_absolute_url())
    request.user = UserNeverRead()

    assert render_edit_link(request, article) == ""


@pytest.mark.django_db
def test_with_a_session_cookie_it_asks_who_it_is(article, editor):
    request = RequestFactory().get(article.get_absolute_url())
    request.COOKIES[settings.SESSION_COOKIE_NAME] = "abc"
    request.user = editor

    assert "Edit this article" in render_edit_link(request, article)
