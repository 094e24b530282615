from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.test import override_settings
from django.utils import timezone

from articles.models import Article


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    # Production hashes with PBKDF2 (about 0.5 s a password here), and the
    # tests create staff users with passwords in hundreds of places. MD5 is
    # fast because it is weak: for tests only. Session-wide, so that it is in
    # force before any fixture makes a user and outlives every per-test setting.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # Production redirects HTTP to HTTPS; the test client speaks plain HTTP.
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(autouse=True)
def _plain_static_names(settings):
    """Pages name static files by their plain names here, collected or not.

    Whether a developer has run collectstatic must not change what the tests
    see, and the browser tests' server finds only plain names. The hashed,
    compressed files production serves are tested in tests/test_static_files.py
    and through gunicorn in the slow tests.
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: no page kept by an earlier test's micro-cache."""
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


def moderators_group():
    """The Moderators group as the migrations make it, made again if needed.

    A transactional test (the browser tests, the mail queue) empties every
    table when it ends, the groups' rows with them; tests that run after one
    and need the group ask for it here.
    """
    import importlib

    from django.apps import apps

    from site_project.roles import ensure_group

    permissions = importlib.import_module("comments.migrations.0006_moderators_block_senders").AFTER
    return ensure_group(apps, "Moderators", permissions)


def editors_group():
    """The Editors group as the migrations make it (see moderators_group)."""
    from django.apps import apps

    from articles.roles import ensure_editors

    ensure_editors(apps)
    return Group.objects.get(name="Editors")


def reviewers_group():
    """The Medical reviewers group as the migrations make it (see moderators_group)."""
    from django.apps import apps

    from articles.roles import ensure_medical_reviewers

    return ensure_medical_reviewers(apps)


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


# People and medical reviews


@pytest.fixture
def make_person(db):
    from articles.models import Person

    counter = iter(range(1, 100_000))

    def make(**fields):
        n = next(counter)
        fields.setdefault("name", f"Person {n}")
        fields.setdefault("slug", f"person-{n}")
        return Person.objects.create(**fields)

    return make


@pytest.fixture
def reviewer(db, make_person):
    """A medical reviewer: a staff account in the group, linked to the person readers see."""
    user = User.objects.create_user(
        "reviewer", "reviewer@staff.example", "a-long-test-password", is_staff=True,
        first_name="Rae", last_name="Reviewer",
    )  # fmt: skip
    user.groups.add(reviewers_group())
    make_person(
        name="Dr Rae Reviewer",
        slug="dr-rae-reviewer",
        credentials="MD, FAAD",
        role="Consultant dermatologist",
        user=user,
    )
    return user


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


@pytest.fixture
def record_review(db):
    """record(article, reviewer_user, on=date): a review requested and approved through the workflow."""
    from datetime import datetime, time

    from articles.review_workflow import approve, request_review
    from articles.reviews import ReviewHistoryEntry

    def record(article, reviewer_user, on=None, requested_by=None):
        review = request_review(article, reviewer_user.person, requested_by)
        review = approve(review, reviewer_user)
        if on is not None:
            moment = timezone.make_aware(datetime.combine(on, time(9, 0)))
            type(review).objects.filter(pk=review.pk).update(decided_at=moment)
            ReviewHistoryEntry.objects.filter(review=review).update(at=moment)
            review.decided_at = moment
        article.refresh_from_db()
        return review

    return record


# Comments


@pytest.fixture
def make_comment(db):
    """Save a comment through Comment.save (which threads replies); approved unless told."""
    from comments.models import Comment

    counter = iter(range(1, 1_000_000))

    def make(article, **fields):
        n = next(counter)
        fields.setdefault("name", f"Reader {n}")
        fields.setdefault("email", f"reader{n}@example.com")
        fields.setdefault("body", f"Comment number {n}.")
        fields.setdefault("status", Comment.Status.APPROVED)
        fields.setdefault("ip_address", "203.0.113.7")
        return Comment.objects.create(article=article, **fields)

    return make


@pytest.fixture
def comment_form_data():
    """Valid POST data for the comment form of an article.

    Pass field=None to leave a field out of the submission.
    """

    def data(article, **overrides):
        values = {
            "body": "Thank you, this helped me through month two.",
            "name": "Ada Reader",
            "email": "ada@example.com",
            "website": "",
            "honeypot": "",
        }
        values.update(overrides)
        return {key: value for key, value in values.items() if value is not None}

    return data


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client


IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    # Production queues email in the database for the worker; tests run each
    # task as it is queued (after the commit), so that mail.outbox is ready to
    # read. tests/test_mail_queue.py and test_faults.py use the database
    # backend and run the worker to prove the queue itself.
    settings.TASKS = IMMEDIATE_TASKS
