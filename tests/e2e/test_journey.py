"""The whole journey in a real browser: reader, moderator, editor.

Each step saves a screenshot to the folder printed at the start and end of the run.
"""

import re
from io import StringIO

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import expect

from articles.management.commands.load_guide import GUIDE_SLUG

from ..conftest import editors_group, moderators_group

PASSWORD = "a-long-e2e-password"
READER_EMAIL = "reader.private@example.net"


@pytest.fixture
def site(staff_groups, live_server, settings):
    settings.SITE_URL = live_server.url
    call_command("load_guide", stdout=StringIO())
    # Made again if an earlier browser test's transactional_db emptied the tables.
    for username, group in (("moderator", moderators_group()), ("editor", editors_group())):
        user = User.objects.create_user(
            username, f"{username}@staff.example", PASSWORD, is_staff=True
        )
        user.groups.add(group)
    return live_server.url


def shoot(page, folder, name):
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def serious_violations(page):
    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in results.response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]


def log_in(page, base, username):
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(
        page.get_by_role("link", name="Log out").or_(page.get_by_role("button", name="Log out"))
    ).to_be_visible()


def test_the_whole_journey(site, new_context, screenshot_dir, csp_violations):
    base = site
    reader = csp_violations(new_context().new_page())

    # 1. A reader opens the list, follows the guide, uses the contents, follows a recommendation.
    reader.goto(base + "/")
    expect(reader.get_by_role("heading", level=1)).to_have_text("Articles")
    assert serious_violations(reader) == []
    shoot(reader, screenshot_dir, "01-list")

    reader.get_by_role("link", name=re.compile("The Isotretinoin Journey")).first.click()
    expect(reader).to_have_url(re.compile(GUIDE_SLUG))
    expect(reader.get_by_role("heading", level=1)).to_have_text(
        "The Isotretinoin Journey: 20 mg, 40 mg, and Beyond"
    )
    contents = reader.get_by_role("navigation", name="Contents")
    contents.get_by_role("link", name="Choosing the Right Dosage").click()
    expect(reader).to_have_url(re.compile("#choosing-the-right-dosage$"))
    expect(reader.locator("#choosing-the-right-dosage")).to_be_in_viewport()
    assert serious_violations(reader) == []
    shoot(reader, screenshot_dir, "02-guide-contents")

    guide_url = reader.url.split("#")[0]
    recommended = reader.get_by_role("region", name="Recommended Articles")
    recommended.get_by_role("link", name="How comments are moderated").click()
    expect(reader.get_by_role("heading", level=1)).to_have_text("How comments are moderated")
    shoot(reader, screenshot_dir, "03-recommended-article")

    # 2. The reader posts a comment and sees it awaiting moderation; a fresh visitor does not.
    reader.goto(guide_url)
    form = reader.locator("form.comment-form")
    form.get_by_role("textbox", name="Email", exact=True).press(
        "Tab"
    )  # reach the form by keyboard, as a person might
    form.locator("[name=email]").fill("not-an-email")
    form.locator("[name=body]").fill("It took four months on 20 mg, but my skin is clear.")
    form.locator("[name=name]").fill("Sam")
    form.get_by_role("button", name="Post Comment").click()
    # The browser's own validation stops a bad email; bypass it to see the server's message.
    if "awaiting moderation" not in reader.content():
        reader.locator("form.comment-form").evaluate("f => f.noValidate = true")
        reader.locator("form.comment-form").get_by_role("button", name="Post Comment").click()
        expect(reader.locator("form.comment-form")).to_contain_text("valid email address")
        expect(reader.locator("form.comment-form [name=body]")).to_have_value(
            "It took four months on 20 mg, but my skin is clear."
        )
        assert serious_violations(reader) == []
        shoot(reader, screenshot_dir, "04-form-with-errors")
    reader.locator("form.comment-form [name=email]").fill(READER_EMAIL)
    reader.locator("form.comment-form").get_by_role("button", name="Post Comment").click()
    expect(reader.get_by_text("Your comment is awaiting moderation").first).to_be_visible()
    expect(reader.locator(".comment-pending")).to_contain_text("my skin is clear")
    shoot(reader, screenshot_dir, "05-awaiting-moderation")

    stranger = new_context().new_page()
    stranger.goto(guide_url)
    expect(stranger.locator("body")).not_to_contain_text("my skin is clear")
    shoot(stranger, screenshot_dir, "06-stranger-before-approval")

    # 3. A moderator logs in, finds the comment in the queue and approves it.
    moderator = csp_violations(new_context().new_page())
    log_in(moderator, base, "moderator")
    moderator.goto(base + "/admin/comments/comment/")
    row = moderator.locator("#result_list tbody tr", has_text="my skin is clear")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(READER_EMAIL)  # moderators, and only they, see it
    row.locator("input[name=_selected_action]").check()
    moderator.locator("select[name=action]").select_option("approve")
    shoot(moderator, screenshot_dir, "07-moderation-queue")
    moderator.get_by_role("button", name="Go").click()
    expect(moderator.locator(".messagelist")).to_contain_text("1")
    shoot(moderator, screenshot_dir, "08-approved")

    # 4. The fresh reader now sees it, and the email is nowhere in the page.
    stranger.reload()
    expect(stranger.locator(".comment", has_text="my skin is clear")).to_have_count(1)
    assert READER_EMAIL not in stranger.content()
    assert serious_violations(stranger) == []
    shoot(stranger, screenshot_dir, "09-stranger-after-approval")

    # 5. An editor writes an article in the markdownx editor, sees the live preview, publishes.
    editor = csp_violations(new_context().new_page())
    log_in(editor, base, "editor")
    editor.goto(base + "/admin/articles/article/add/")
    editor.get_by_label("Title:").fill("Sun protection during treatment")
    editor.get_by_label("Summary:").fill(
        "Why skin burns more easily on isotretinoin, and what helps."
    )
    body = editor.locator("textarea.markdownx-editor")
    body.fill("## Why it matters\n\n- Use SPF 30 or higher\n- Reapply every two hours\n")
    body.press("End")  # the editor previews on input
    preview = editor.locator(".markdownx-preview")
    expect(preview.locator("h2")).to_have_text(re.compile("Why it matters"))
    expect(preview.locator("li")).to_have_count(2)
    shoot(editor, screenshot_dir, "10-editor-live-preview")
    editor.locator("select[name=status]").select_option("published")
    # Not medical content, so it is published at once (medical articles are reviewed first:
    # tests/e2e/test_medical_review.py).
    editor.get_by_label("Medical content", exact=True).uncheck()
    editor.get_by_role("button", name="Save", exact=True).click()
    expect(editor.locator(".messagelist")).to_contain_text("was added successfully")
    shoot(editor, screenshot_dir, "11-editor-saved")

    reader.goto(base + "/")
    expect(reader.get_by_role("link", name="Sun protection during treatment")).to_be_visible()
    shoot(reader, screenshot_dir, "12-new-article-on-list")
    feed = reader.request.get(base + "/feed/")
    assert feed.ok and "Sun protection during treatment" in feed.text()

    # The admin and the editor did all of this under the Content-Security-Policy.
    assert csp_violations.seen == []
