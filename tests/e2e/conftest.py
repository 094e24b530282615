"""Browser tests: Debian's Chromium driven by Playwright against a live server.

They run when /usr/bin/chromium (or $CHROMIUM) exists and say clearly that they
were skipped when it does not; with E2E_REQUIRED=1 (as .ci/run sets) a missing
browser is a failure instead.
"""

import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(
    os.environ.get("E2E_SCREENSHOTS")
    or Path(__file__).resolve().parents[2]
    / "test-artifacts"
    / datetime.now().strftime("e2e-%Y%m%d-%H%M%S")
)

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make for set-up are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


def pytest_report_header(config):
    if Path(CHROMIUM).exists():
        return f"e2e: Chromium at {CHROMIUM}; screenshots go to {SCREENSHOTS}"
    return (
        f"e2e: NO Chromium at {CHROMIUM}: browser tests will be skipped (apt-get install chromium)"
    )


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = (
            f"Chromium not found at {CHROMIUM}: browser journey NOT run (apt-get install chromium)"
        )
        if os.environ.get("E2E_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshot_dir():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    print(f"\nE2E screenshots: {SCREENSHOTS}")
    return SCREENSHOTS


@pytest.fixture
def new_context(browser):
    contexts = []

    def make(**options):
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(**options)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def csp_violations():
    """Collects console messages that report a Content-Security-Policy violation."""
    seen = []

    def watch(page):
        page.on(
            "console",
            lambda message: (
                seen.append(message.text)
                if "Content Security Policy" in message.text
                or "Content-Security-Policy" in message.text
                else None
            ),
        )
        return page

    watch.seen = seen
    return watch


def pytest_terminal_summary(terminalreporter):
    if SCREENSHOTS.exists():
        terminalreporter.write_line(f"E2E screenshots of each step: {SCREENSHOTS}")


@pytest.fixture(scope="session", autouse=True)
def _plain_http_live_server():
    """The live server speaks plain HTTP, so production's HTTPS-only settings are off.

    Session-scoped and autouse so that it runs before live_server builds its
    middleware (SecurityMiddleware reads SECURE_SSL_REDIRECT once, at start).
    """
    from django.conf import settings

    saved = {
        name: getattr(settings, name)
        for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
    }
    for name in saved:
        setattr(settings, name, False)
    yield
    for name, value in saved.items():
        setattr(settings, name, value)


@pytest.fixture
def staff_groups(transactional_db):
    """The staff groups the migrations make, made again if a browser test emptied them.

    Browser tests are transactional: each ends by emptying every table, groups
    included. (Serialized rollback cannot bring them back: Playwright's sync
    API runs the test in another greenlet, which Django's connection handler
    treats as another context, without the serialized data.)
    """
    import importlib

    from django.contrib.auth.models import Group, Permission

    from articles.roles import EDITOR_PERMISSIONS, MEDICAL_REVIEWERS, REVIEWER_PERMISSIONS

    moderators = importlib.import_module("comments.migrations.0002_moderators_group")
    for name, permissions in (
        ("Editors", EDITOR_PERMISSIONS),
        ("Moderators", moderators.MODERATOR_PERMISSIONS),
        (MEDICAL_REVIEWERS, REVIEWER_PERMISSIONS),
    ):
        group, created = Group.objects.get_or_create(name=name)
        if created:
            group.permissions.set(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
                for app_label, codename in (dotted.split(".") for dotted in permissions)
            )
