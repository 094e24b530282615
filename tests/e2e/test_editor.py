"""The article editor in Chromium: a preview that looks like the public page, images with descriptions.

Screenshots of each step go to the run's folder (see conftest.py).
"""

import io
import re

import pytest
from django.contrib.auth.models import Group, User
from PIL import Image
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from articles.models import Article

PASSWORD = "a-long-e2e-password"
BODY = (
    "## Why it matters\n\n"
    "- Use SPF 30 or higher\n"
    "- Reapply every two hours\n\n"
    "> Sun and isotretinoin do not mix.\n\n"
    "| When | What |\n|---|---|\n| Morning | SPF 50 |\n\n"
    "Use `SPF 50`.[^1]\n\n"
    "[^1]: Ask your dermatologist.\n"
)
STYLES = ["fontSize", "fontWeight", "color", "fontFamily", "lineHeight"]


@pytest.fixture
def site(staff_groups, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    user = User.objects.create_user(
        "editor",
        "editor@staff.example",
        PASSWORD,
        is_staff=True,
        first_name="Eda",
        last_name="Editor",
    )
    user.groups.add(Group.objects.get(name="Editors"))
    return live_server.url


def log_in(page, base):
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def editor_page(new_context, csp_violations, base, width=1280):
    page = csp_violations(new_context(viewport={"width": width, "height": 900}).new_page())
    log_in(page, base)
    page.goto(f"{base}/admin/articles/article/add/")
    return page


def styles(locator, pseudo=None):
    return locator.evaluate(
        "(element, names) => { const s = getComputedStyle(element); "
        "return Object.fromEntries(names.map(n => [n, s[n]])); }",
        [*STYLES, "listStyleType", "borderLeftWidth", "borderLeftStyle"],
    )


def photo_file(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), (40, 120, 200)).save(buffer, format="JPEG")
    path = tmp_path / "lip-balm.jpg"
    path.write_bytes(buffer.getvalue())
    return path


def test_the_preview_looks_like_the_public_page(site, new_context, csp_violations, screenshot_dir):
    base = site
    page = editor_page(new_context, csp_violations, base)
    page.get_by_label("Title:").fill("Sun protection during treatment")
    page.get_by_label("Summary:").fill("Why skin burns more easily on isotretinoin.")
    page.locator("textarea.markdownx-editor").fill(BODY)
    preview = page.frame_locator("iframe.article-editor-frame")
    expect(preview.locator(".article-body h2")).to_have_text(re.compile("Why it matters"))
    expect(preview.locator("h1")).to_have_text("Sun protection during treatment")
    expect(preview.locator(".article-body li")).to_have_count(3)  # two bullets and the footnote
    page.screenshot(path=str(screenshot_dir / "editor-preview-1280.png"))

    # Side by side: the preview starts level with the text, to its right.
    text_box = page.locator("textarea.markdownx-editor").bounding_box()
    frame_box = page.locator("iframe.article-editor-frame").bounding_box()
    assert frame_box["x"] >= text_box["x"] + text_box["width"] - 1
    assert abs(frame_box["y"] - text_box["y"]) < 5

    in_preview = {
        name: styles(preview.locator(selector).first)
        for name, selector in [
            ("h2", ".article-body h2"),
            ("li", ".article-body ul li"),
            ("blockquote", ".article-body blockquote"),
            ("td", ".article-body td"),
            ("code", ".article-body code"),
        ]
    }
    page.locator("select[name=status]").select_option("published")
    # Not medical content, so it is published at once (medical articles are reviewed first).
    page.get_by_label("Medical content", exact=True).uncheck()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    reader = new_context(viewport={"width": 1280, "height": 900}).new_page()
    reader.goto(base + Article.objects.get().get_absolute_url())
    on_the_site = {
        name: styles(reader.locator(selector).first)
        for name, selector in [
            ("h2", ".article-body h2"),
            ("li", ".article-body ul li"),
            ("blockquote", ".article-body blockquote"),
            ("td", ".article-body td"),
            ("code", ".article-body code"),
        ]
    }
    reader.screenshot(path=str(screenshot_dir / "public-article-1280.png"))
    assert in_preview == on_the_site
    assert in_preview["li"]["listStyleType"] == "disc"
    assert csp_violations.seen == []


def test_insert_image_asks_for_a_description_and_puts_it_in_the_markdown(
    site, new_context, csp_violations, screenshot_dir, tmp_path
):
    page = editor_page(new_context, csp_violations, site)
    body = page.locator("textarea.markdownx-editor")
    body.fill("Lips dry out in the first weeks.\n\n")
    body.press("Control+End")

    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Insert image…").click()
    assert chooser.value.element.get_attribute("accept") == "image/jpeg,image/png"
    chooser.value.set_files(str(photo_file(tmp_path)))

    dialog = page.get_by_role("dialog", name="Insert image")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Description (alternative text)")).to_be_focused()
    dialog.get_by_role("button", name="Upload and insert").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Describe the image")  # not without one
    page.screenshot(path=str(screenshot_dir / "editor-image-dialog.png"))
    dialog.get_by_label("Description (alternative text)").fill("A tube of lip balm [SPF 15]")
    dialog.get_by_role("button", name="Upload and insert").click()
    expect(dialog).to_be_hidden()

    expect(body).to_have_value(
        re.compile(r"!\[A tube of lip balm \\\[SPF 15\\\]\]\(/media/markdownx/[0-9a-f]{32}\.jpg\)")
    )
    image = page.frame_locator("iframe.article-editor-frame").locator(".article-body img")
    expect(image).to_have_attribute("alt", "A tube of lip balm [SPF 15]")
    expect(image).to_have_attribute("width", "1200")
    page.screenshot(path=str(screenshot_dir / "editor-image-inserted.png"))
    assert csp_violations.seen == []


def test_a_missing_description_is_refused_on_save(
    site, new_context, csp_violations, screenshot_dir
):
    page = editor_page(new_context, csp_violations, site)
    page.get_by_label("Title:").fill("Photos of week four")
    page.get_by_label("Summary:").fill("What changed.")
    page.locator("textarea.markdownx-editor").fill(
        "Week four.\n\n![](/media/markdownx/week-4.jpg)\n"
    )
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".errorlist")).to_contain_text("No alternative text: “week-4.jpg”")
    expect(page.locator("textarea.markdownx-editor")).to_have_value(re.compile("Week four"))  # kept
    page.screenshot(path=str(screenshot_dir / "editor-missing-alt-refused.png"))
    assert not Article.objects.exists()


def test_word_count_toolbar_and_the_unsaved_changes_warning(site, new_context, csp_violations):
    page = editor_page(new_context, csp_violations, site)
    body = page.locator("textarea.markdownx-editor")
    body.fill("one two three")
    expect(page.locator(".article-editor-stats")).to_have_text("3 words · 1 min read")
    body.fill("word " * 221)
    expect(page.locator(".article-editor-stats")).to_have_text("221 words · 2 min read")

    body.fill("dose")
    body.select_text()
    page.get_by_role("button", name="Bold").click()
    expect(body).to_have_value("**dose**")
    page.get_by_role("button", name="Heading").click()
    expect(body).to_have_value("## **dose**")

    prompts = []
    page.on("dialog", lambda dialog: (prompts.append(dialog.type), dialog.dismiss()))
    with pytest.raises(PlaywrightError, match="ERR_ABORTED"):
        page.goto(site + "/admin/")  # the editor answers "stay": the navigation is cancelled
    assert prompts == ["beforeunload"]
    expect(body).to_have_value("## **dose**")


def test_on_a_phone_the_preview_is_under_the_text(
    site, new_context, csp_violations, screenshot_dir
):
    page = editor_page(new_context, csp_violations, site, width=390)
    body = page.locator("textarea.markdownx-editor")
    body.fill(BODY * 4)
    preview = page.frame_locator("iframe.article-editor-frame")
    expect(preview.locator(".article-body h2").first).to_be_visible()

    text_box = body.bounding_box()
    frame_box = page.locator("iframe.article-editor-frame").bounding_box()
    assert frame_box["y"] >= text_box["y"] + text_box["height"]
    assert text_box["width"] <= 390 and frame_box["width"] <= 390
    # As tall as its text: nothing to scroll inside the box.
    assert body.evaluate("t => t.scrollHeight <= t.clientHeight + 2")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(screenshot_dir / "editor-390.png"), full_page=True)
    assert csp_violations.seen == []
