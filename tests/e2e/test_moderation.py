"""The moderation queue and the reader's side of it, in Chromium (issue 13).

Screenshots of each step go to the run's folder (see conftest.py).
"""

import re
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import expect

from articles.management.commands.load_guide import GUIDE_SLUG
from articles.models import Article
from comments import subscriptions
from comments.models import BlockedSender, Comment

from ..conftest import moderators_group

PASSWORD = "a-long-e2e-password"
QUESTION = "Is it normal that my lips crack every morning at 40 mg?"


@pytest.fixture
def site(transactional_db, live_server, settings):
    settings.SITE_URL = live_server.url
    settings.MODERATOR_EMAILS = []
    call_command("load_guide", stdout=StringIO())
    moderator = User.objects.create_user(
        "moderator", "moderator@staff.example", PASSWORD, is_staff=True,
        first_name="Dana", last_name="Derm",
    )  # fmt: skip
    moderator.groups.add(moderators_group())
    return live_server.url


@pytest.fixture
def guide(site):
    return Article.objects.get(slug=GUIDE_SLUG)


def held_question(guide, **fields):
    values = {
        "name": "Sam",
        "email": "sam.private@example.net",
        "body": QUESTION + "\n\nI use balm twice a day. " + "It still hurts when I smile. " * 6,
        "status": Comment.Status.PENDING,
        "ip_address": "2001:db8:42:7::15",
        "hold_reason": "Held for moderation (all comments are).",
    }
    values.update(fields)
    return Comment.objects.create(article=guide, **values)


def log_in(page, base):
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill("moderator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(
        page.get_by_role("button", name="Log out").or_(page.get_by_role("link", name="Log out"))
    ).to_be_visible()


def shoot(page, folder, name, full_page=True):
    page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)


def overflow(page):
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def table_overflow(page):
    return page.evaluate(
        "(() => { const t = document.querySelector('#result_list');"
        " const box = t.closest('.results') || t.parentElement;"
        " return t.scrollWidth - box.clientWidth; })()"
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_the_queue_fits_and_a_moderator_approves_replies_and_blocks_in_place(
    site, guide, new_context, screenshot_dir, csp_violations, width
):
    question = held_question(guide)
    other = held_question(
        guide,
        name="Bot",
        email="bot@spam.example",
        body="Cheap pills here.",
        ip_address="203.0.113.50",
    )
    page = csp_violations(new_context(viewport={"width": width, "height": 900}).new_page())
    log_in(page, site)
    page.goto(f"{site}/admin/comments/comment/")

    row = page.locator(f"#queue-comment-{question.pk}")
    expect(row).to_contain_text("It still hurts when I smile.")
    expect(row).to_contain_text(guide.title)
    expect(row).to_contain_text("Held for moderation")
    expect(row).to_contain_text("sam.private@example.net")
    assert overflow(page) <= 0, f"the queue scrolls sideways by {overflow(page)} px at {width} px"
    assert table_overflow(page) <= 0, f"the table overflows its box by {table_overflow(page)} px"
    # The comment column reads as text, not one word a line (the queue's stylesheet is there).
    assert page.locator("link[href*='comments/queue']").count() == 1
    lines = row.locator(".queue-body p").first.evaluate(
        "p => Math.round(p.getBoundingClientRect().height / (parseFloat(getComputedStyle(p).fontSize) * 1.5))"
    )
    assert lines <= (8 if width < 500 else 4), f"{lines} lines for the comment at {width} px"
    shoot(page, screenshot_dir, f"issue13-queue-{width}px")

    # Approve in one click: the row changes in place, no reload, and it is read out.
    page.evaluate("window.__noReload = true")
    row.get_by_role("button", name="Approve").click()
    expect(row.locator("[data-status-label]")).to_have_text("Approved")
    expect(page.locator("#queue-announcer")).to_have_text("Comment by Sam approved.")
    assert page.evaluate("window.__noReload") is True
    question.refresh_from_db()
    assert question.status == "approved"

    # Reply from the row.
    row.get_by_role("link", name="Reply").click()
    row.get_by_label(re.compile("Your reply")).fill(
        "Yes, dry lips are the most common effect. Keep using the balm."
    )
    shoot(page, screenshot_dir, f"issue13-queue-reply-{width}px", full_page=False)
    row.get_by_role("button", name="Publish reply").click()
    expect(page.locator("#queue-announcer")).to_have_text("Your reply to Sam is published.")
    reply = Comment.objects.get(parent=question)
    assert (reply.status, reply.staff_author.username) == ("approved", "moderator")

    # Block the other sender's domain from its row.
    bot_row = page.locator(f"#queue-comment-{other.pk}")
    bot_row.get_by_role("link", name="Block sender…").click()
    bot_row.get_by_label(re.compile("Email domain")).check()
    shoot(page, screenshot_dir, f"issue13-queue-block-{width}px", full_page=False)
    bot_row.get_by_role("button", name="Block and mark as spam").click()
    expect(bot_row.locator("[data-status-label]")).to_have_text("Spam")
    expect(page.locator("#queue-announcer")).to_have_text("Blocked email domain spam.example.")
    assert BlockedSender.objects.filter(kind="domain", value="spam.example").exists()
    assert overflow(page) <= 0
    shoot(page, screenshot_dir, f"issue13-queue-after-{width}px")
    assert csp_violations.seen == []

    # The reader's question and the answer, threaded, with the badge.
    reader = new_context(viewport={"width": width, "height": 900}).new_page()
    reader.goto(f"{site}{guide.get_absolute_url()}#comment-{reply.pk}")
    answer = reader.locator(f"#comment-{question.pk} .comment-replies #comment-{reply.pk}")
    expect(answer).to_contain_text("Dana Derm")
    expect(answer.locator(".staff-badge")).to_have_text("Editorial team")
    assert "sam.private@example.net" not in reader.content()
    assert overflow(reader) <= 0
    answer.scroll_into_view_if_needed()
    shoot(reader, screenshot_dir, f"issue13-reply-badge-{width}px", full_page=False)


def test_the_queue_works_without_javascript(site, guide, browser, screenshot_dir):
    question = held_question(guide)
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    try:
        page = context.new_page()
        log_in(page, site)
        page.goto(f"{site}/admin/comments/comment/?status=all")
        page.locator(f"#queue-comment-{question.pk}").get_by_role("button", name="Approve").click()
        expect(page.locator(".messagelist")).to_contain_text("Comment by Sam approved.")
        assert page.url.endswith("/admin/comments/comment/?status=all")  # back where it was
        expect(page.locator(f"#queue-comment-{question.pk} [data-status-label]")).to_have_text(
            "Approved"
        )
        page.locator(f"#queue-comment-{question.pk}").get_by_role("link", name="Reply").click()
        page.get_by_label("Your reply").fill("Answered without JavaScript.")
        shoot(page, screenshot_dir, "issue13-reply-page-no-js")
        page.get_by_role("button", name="Publish reply").click()
        expect(page.locator(".messagelist")).to_contain_text("Your reply to Sam is published.")
        assert Comment.objects.filter(parent=question, body="Answered without JavaScript.").exists()
    finally:
        context.close()


def test_after_a_bad_email_the_error_summary_is_in_view_and_focused(
    site, guide, new_context, screenshot_dir, csp_violations
):
    page = csp_violations(new_context(viewport={"width": 390, "height": 844}).new_page())
    url = f"{site}{guide.get_absolute_url()}"
    page.goto(url)
    form = page.locator("form.comment-form")
    form.evaluate("f => f.noValidate = true")  # the browser's own check would stop a bad email
    form.locator("[name=body]").fill("How long did the dryness last for you?")
    form.locator("[name=name]").fill("Sam")
    form.locator("[name=email]").fill("sam@@example")
    form.get_by_role("button", name="Post Comment").click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(page).to_have_url(url + "#comment-form")
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(form.locator("[name=body]")).to_have_value("How long did the dryness last for you?")
    shoot(page, screenshot_dir, "issue13-error-summary-390px", full_page=False)
    summary.get_by_role("link", name=re.compile("valid email address")).click()
    expect(form.locator("[name=email]")).to_be_focused()
    assert csp_violations.seen == []


def test_the_reader_asks_to_hear_back_and_can_unsubscribe(site, guide, new_context, screenshot_dir):
    page = new_context(viewport={"width": 390, "height": 844}).new_page()
    page.goto(f"{site}{guide.get_absolute_url()}")
    form = page.locator("form.comment-form")
    checkbox = form.get_by_label("Email me when my comment is published or someone replies")
    expect(checkbox).not_to_be_checked()
    form.locator("[name=body]").fill("Thank you for this guide.")
    form.locator("[name=name]").fill("Ana")
    form.locator("[name=email]").fill("ana@example.net")
    checkbox.check()
    form.get_by_role("button", name="Post Comment").click()
    expect(page.locator(".messages")).to_contain_text("we have sent it a link to confirm it")
    mine = page.locator(".comment-pending", has_text="Thank you for this guide.")
    expect(mine).to_be_visible()
    expect(page.get_by_text("No comments yet.")).to_have_count(0)
    shoot(page, screenshot_dir, "issue13-pending-own-comment-390px")

    token = subscriptions.unsubscribe_token("ana@example.net")
    page.goto(f"{site}/comments/unsubscribe/{token}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Stop emails about comments")
    shoot(page, screenshot_dir, "issue13-unsubscribe-390px")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    shoot(page, screenshot_dir, "issue13-unsubscribed-390px")
    assert subscriptions.subscription_for("ana@example.net").unsubscribed_at is not None
