"""Responsive, dark and print layouts, as Chromium renders them."""

from io import StringIO

import pytest
from django.core.management import call_command

from articles.management.commands.load_guide import GUIDE_SLUG


@pytest.fixture
def guide_url(transactional_db, live_server):
    call_command("load_guide", stdout=StringIO())
    return f"{live_server.url}/articles/{GUIDE_SLUG}/"


@pytest.mark.parametrize("width", [320, 768, 1440])
def test_no_sideways_scrolling_from_320_px_up(
    new_context, guide_url, live_server, width, screenshot_dir
):
    page = new_context(viewport={"width": width, "height": 800}).new_page()
    for url in (live_server.url + "/", guide_url):
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url} scrolls sideways by {overflow}px at {width}px"
    page.screenshot(path=str(screenshot_dir / f"layout-{width}px.png"))


def test_dark_mode_follows_the_reader_preference(new_context, guide_url):
    colours = {}
    for scheme in ("light", "dark"):
        page = new_context(color_scheme=scheme).new_page()
        page.goto(guide_url)
        colours[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert colours["light"] != colours["dark"]
    assert colours["dark"] not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")


def test_print_shows_the_article_without_navigation_or_comment_form(
    new_context, guide_url, screenshot_dir
):
    page = new_context().new_page()
    page.goto(guide_url)
    page.emulate_media(media="print")
    assert page.locator("h1").is_visible()
    assert page.locator(".article-body").is_visible()
    for hidden in (
        "header.site-header",
        "nav[aria-label='Main']",
        "form.comment-form",
        "footer.site-footer",
    ):
        assert not page.locator(hidden).first.is_visible(), f"{hidden} is printed"
    page.pdf(path=str(screenshot_dir / "article-print.pdf"))
