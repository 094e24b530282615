"""The medical review workflow in Chromium: an editor's change waits, the editor asks a
reviewer, the reviewer reads the diff and approves, readers see who reviewed it and when.

Screenshots of each step go to the run's folder (see conftest.py).
"""

import re
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group, User
from django.utils import timezone
from playwright.sync_api import expect

from articles import review_workflow
from articles.models import Article, Person

PASSWORD = "a-long-e2e-password"
BODY = (
    "## Protect your skin\n\n"
    "Isotretinoin makes skin burn faster.\n\n"
    "- Use a sunscreen of SPF 30 or higher.\n"
    "- Reapply every two hours outdoors.\n"
)


@pytest.fixture
def site(staff_groups, live_server, settings):
    settings.SITE_URL = live_server.url
    editor = User.objects.create_user(
        "editor", "editor@staff.example", PASSWORD, is_staff=True, first_name="Eda"
    )
    editor.groups.add(Group.objects.get(name="Editors"))
    reviewer = User.objects.create_user(
        "reviewer", "reviewer@staff.example", PASSWORD, is_staff=True, first_name="Rae"
    )
    reviewer.groups.add(Group.objects.get(name="Medical reviewers"))
    Person.objects.create(
        name="Dr Rae Reviewer",
        slug="dr-rae-reviewer",
        credentials="MD, FAAD",
        role="Consultant dermatologist",
        bio="Rae has treated acne for twenty years.",
        registration="GMC 1234567",
        registration_url="https://www.gmc-uk.org/doctors/1234567",
        user=reviewer,
    )
    article = Article.objects.create(
        title="Sun protection on isotretinoin",
        slug="sun-protection",
        summary="Why skin burns faster on isotretinoin, and what helps.",
        body=BODY,
        status=Article.Status.PUBLISHED,
        published_at=timezone.now() - timedelta(days=30),
    )
    # Its first review, recorded through the workflow, as a site would have it.
    review_workflow.approve(
        review_workflow.request_review(article, reviewer.person, editor), reviewer
    )
    return live_server.url, article


def log_in(page, base, username):
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def shoot(page, folder, name):
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def serious_violations(page):
    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in results.response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]


def test_an_editor_asks_a_reviewer_approves_with_the_diff_and_readers_see_who(
    site, new_context, csp_violations, screenshot_dir
):
    base, article = site
    today = timezone.localdate().strftime("%-d %B %Y")

    # 1. The editor changes the advice; the change waits, readers keep the reviewed text.
    editor = csp_violations(new_context().new_page())
    log_in(editor, base, "editor")
    editor.goto(f"{base}/admin/articles/article/{article.pk}/change/")
    panel = editor.get_by_role("region", name="Medical review")
    expect(panel).to_contain_text("Medically reviewed by Dr Rae Reviewer, MD, FAAD")
    editor.locator("textarea.markdownx-editor").fill(BODY.replace("SPF 30", "SPF 50"))
    editor.get_by_role("button", name="Save", exact=True).click()
    expect(editor.locator(".messagelist")).to_contain_text("waiting for medical review")
    shoot(editor, screenshot_dir, "review-01-editor-change-waits")

    reader = csp_violations(new_context().new_page())
    reader.goto(base + article.get_absolute_url())
    expect(reader.locator(".article-body")).to_contain_text("SPF 30")

    # 2. The editor asks the reviewer.
    editor.get_by_role("link", name="Request a medical review").click()
    editor.get_by_label("Dr Rae Reviewer, MD, FAAD").check()
    editor.get_by_label("Note for the reviewer").fill("SPF 50 is the BAD's advice now.")
    shoot(editor, screenshot_dir, "review-02-editor-requests")
    editor.get_by_role("button", name="Request the review").click()
    expect(editor.locator(".messagelist")).to_contain_text("Review requested from Dr Rae Reviewer")
    expect(editor.get_by_role("region", name="Medical review")).to_contain_text(
        "Review requested from Dr Rae Reviewer, MD, FAAD"
    )

    # 3. The reviewer finds it in their queue, reads the diff and approves.
    reviewer = csp_violations(new_context().new_page())
    log_in(reviewer, base, "reviewer")
    reviewer.get_by_role("link", name="1 review waiting for you").click()
    shoot(reviewer, screenshot_dir, "review-03-reviewer-queue")
    reviewer.get_by_role("link", name="Review", exact=True).click()
    diff = reviewer.locator(".history-diff")
    expect(diff.locator("del")).to_have_text("30")
    expect(diff.locator("ins")).to_have_text("50")
    expect(
        reviewer.get_by_role("region", name="The text to review, as readers will see it")
    ).to_contain_text("SPF 50")
    expect(reviewer.get_by_text("SPF 50 is the BAD's advice now.")).to_be_visible()
    shoot(reviewer, screenshot_dir, "review-04-reviewer-reads-the-diff-1280")
    phone = new_context(viewport={"width": 390, "height": 844})
    phone.add_cookies(reviewer.context.cookies())
    small = phone.new_page()
    small.goto(reviewer.url)
    assert small.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shoot(small, screenshot_dir, "review-05-reviewer-reads-the-diff-390")
    reviewer.get_by_label("Your note").fill("Agreed: SPF 50, broad spectrum.")
    reviewer.get_by_role("button", name="Approve: medically reviewed").click()
    expect(reviewer.locator(".messagelist")).to_contain_text("Approved")

    # 4. Readers see the new text, who reviewed it and when, and can check who that is.
    reader.goto(base + article.get_absolute_url())
    expect(reader.locator(".article-body")).to_contain_text("SPF 50")
    line = reader.locator("p.review")
    expect(line).to_have_text(
        re.compile(rf"Medically reviewed by Dr Rae Reviewer, MD, FAAD on {today}\.")
    )
    assert serious_violations(reader) == []
    shoot(reader, screenshot_dir, "review-06-reader-sees-the-reviewer")
    line.get_by_role("link", name="Dr Rae Reviewer").click()
    expect(reader.get_by_role("heading", level=1)).to_contain_text("Dr Rae Reviewer")
    expect(reader.get_by_role("link", name="GMC 1234567")).to_be_visible()
    expect(
        reader.get_by_role("region", name="Articles medically reviewed by Dr Rae Reviewer")
    ).to_contain_text("Sun protection on isotretinoin")
    assert "reviewer@staff.example" not in reader.content() and ">reviewer<" not in reader.content()
    assert serious_violations(reader) == []
    shoot(reader, screenshot_dir, "review-07-person-page-1280")
    phone_reader = new_context(viewport={"width": 390, "height": 844}).new_page()
    phone_reader.goto(reader.url)
    assert phone_reader.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shoot(phone_reader, screenshot_dir, "review-08-person-page-390")
    assert csp_violations.seen == []
