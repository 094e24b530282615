from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from articles.models import Article


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # Production redirects HTTP to HTTPS; the test client speaks plain HTTP.
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_article(db):
    counter = iter(range(1, 100_000))

    def make(**fields):
        n = next(counter)
        fields.setdefault("title", f"Article {n}")
        fields.setdefault("slug", f"article-{n}")
        fields.setdefault("summary", f"Summary of article {n}.")
        fields.setdefault("body", f"## Section {n}\n\nBody of article {n}.")
        fields.setdefault("status", Article.Status.PUBLISHED)
        if fields["status"] == Article.Status.PUBLISHED:
            fields.setdefault("published_at", timezone.now() - timedelta(days=n))
        return Article.objects.create(**fields)

    return make


@pytest.fixture
def article(make_article):
    return make_article(title="Published article", slug="published-article")


@pytest.fixture
def draft(make_article):
    return make_article(title="Draft article", slug="draft-article", status=Article.Status.DRAFT)


def _staff(username, group=None, **extra):
    user = User.objects.create_user(
        username, f"{username}@staff.example", "a-long-test-password", is_staff=True, **extra
    )
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def editor(db):
    return _staff("editor", "Editors", first_name="Eda", last_name="Editor")


@pytest.fixture
def moderator(db):
    return _staff("moderator", "Moderators")


@pytest.fixture
def staff_without_permissions(db):
    return _staff("plainstaff")


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@staff.example", "a-long-test-password")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client
