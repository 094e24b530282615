"""`manage.py load_guide`: the supplied guide, in order, and idempotent."""

import re
from html.parser import HTMLParser
from io import StringIO

import pytest
from django.core.management import call_command

from articles.management.commands.load_guide import GUIDE_SLUG
from articles.models import Article, RecommendedArticle


class _Blocks(HTMLParser):
    """The sequence of headings, paragraphs and list items, with their text."""

    BLOCKS = {"h2", "h3", "p", "li", "ol", "ul"}

    def __init__(self):
        super().__init__()
        self.blocks, self._open = [], None

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self.blocks.append([tag, ""])
            self._open = self.blocks[-1]

    def handle_data(self, data):
        if self._open is not None:
            self._open[1] += data

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self._open = None


def blocks(html):
    parser = _Blocks()
    parser.feed(html)
    # Drop the "#" of the heading permalinks.
    return [(tag, re.sub(r"#$", "", text).strip()) for tag, text in parser.blocks]


@pytest.fixture
def guide(db):
    call_command("load_guide", stdout=StringIO())
    return Article.objects.get(slug=GUIDE_SLUG)


def test_the_guide_is_published_with_its_title(guide):
    assert guide.is_published
    assert guide.title == "The Isotretinoin Journey: 20 mg, 40 mg, and Beyond"
    assert guide.summary


def test_sections_and_subsections_in_the_supplied_order(guide):
    headings = [(tag, text) for tag, text in blocks(guide.body_html) if tag in {"h2", "h3"}]
    assert headings == [
        ("h2", "Understanding Isotretinoin"),
        ("h3", "Mechanism of Action"),
        ("h2", "Choosing the Right Dosage"),
        ("h3", "20 mg Isotretinoin: A Gentle Approach"),
        ("h3", "40 mg Isotretinoin: A Potent Solution"),
        ("h2", "Personalized Treatment"),
    ]


def test_the_four_mechanisms_are_a_numbered_list(guide):
    html = guide.body_html
    ordered = html[html.index("<ol>") : html.index("</ol>")]
    items = [text for tag, text in blocks(ordered) if tag == "li"]
    assert [item.split(":")[0] for item in items] == [
        "Sebum Reduction",
        "Pore Clearance",
        "Anti-Inflammatory Properties",
        "Bacterial Growth Inhibition",
    ]


def test_each_dose_lists_advantages_and_considerations(guide):
    sequence = blocks(guide.body_html)
    texts = [text for _, text in sequence]
    gentle = texts.index("20 mg Isotretinoin: A Gentle Approach")
    potent = texts.index("40 mg Isotretinoin: A Potent Solution")
    personal = texts.index("Personalized Treatment")

    def bullets_after(label, start, end):
        position = texts.index(label, start, end)
        items = []
        for tag, text in sequence[position + 1 : end]:
            if tag in {"p", "h2", "h3"}:
                break
            if tag == "li":
                items.append(text)
        return items

    assert len(bullets_after("Advantages", gentle, potent)) == 2
    assert [i.split(":")[0] for i in bullets_after("Considerations", gentle, potent)] == [
        "Extended Treatment Duration",
        "Varied Responses",
    ]
    assert [i.split(":")[0] for i in bullets_after("Advantages", potent, personal)] == [
        "Enhanced Effectiveness",
        "Shorter Treatment Duration",
    ]
    assert [i.split(":")[0] for i in bullets_after("Considerations", potent, personal)] == [
        "Potential for Side Effects"
    ]


def test_every_paragraph_of_the_supplied_text_is_kept_in_order(guide):
    text = re.sub(r"\s+", " ", " ".join(t for _, t in blocks(guide.body_html)))
    supplied = [
        "Many people with acne consider taking isotretinoin",
        "it’s important to know how this medication treats severe acne",
        "addresses acne through many mechanisms",
        "Each dosage offers distinct advantages and considerations",
        "It provides an effective yet gentle approach to treatment",
        "This dosage offers a faster and more pronounced approach to treatment",
        "how you’ve responded to the medicine",
        "promising a brighter future",
    ]
    positions = [text.index(fragment) for fragment in supplied]
    assert positions == sorted(positions)


def test_page_chrome_of_the_supplied_text_is_not_body_text(guide):
    # "Recommended Articles" and "Leave a Reply" are sections of the page itself.
    assert "Recommended Articles" not in guide.body_html
    assert "Leave a Reply" not in guide.body_html


def test_companion_pages_are_published_and_recommended_in_order(guide):
    titles = [a.title for a in guide.published_recommendations()]
    assert titles == ["How we review medical content", "How comments are moderated"]


def test_running_it_twice_changes_nothing(guide):
    before = {a.slug: (a.updated_at, a.history.count()) for a in Article.objects.all()}
    links = list(RecommendedArticle.objects.values_list("pk", "position"))

    call_command("load_guide", stdout=StringIO())

    after = {a.slug: (a.updated_at, a.history.count()) for a in Article.objects.all()}
    assert after == before
    assert list(RecommendedArticle.objects.values_list("pk", "position")) == links


def test_an_editors_changes_are_kept_unless_reset_is_asked_for(guide):
    guide.title = "Edited by an editor"
    guide.save()
    call_command("load_guide", stdout=StringIO())
    guide.refresh_from_db()
    assert guide.title == "Edited by an editor"

    call_command("load_guide", "--reset", stdout=StringIO())
    guide.refresh_from_db()
    assert guide.title.startswith("The Isotretinoin Journey")


def test_the_guide_page_is_served(client, guide):
    response = client.get(guide.get_absolute_url())
    assert response.status_code == 200
    assert "Recommended Articles" in response.content.decode()


def run_load_guide(*args):
    out = StringIO()
    call_command("load_guide", *args, stdout=out)
    return out.getvalue()


def state():
    """Everything load_guide could change: articles, their versions, and the guide's links."""
    return (
        {
            a.slug: (a.updated_at, a.history.count(), a.title, a.author_id, a.pinned)
            for a in Article.objects.all()
        },
        list(
            RecommendedArticle.objects.order_by("pk").values_list(
                "pk", "article", "recommended", "position"
            )
        ),
    )


def test_the_guide_is_pinned_and_its_companions_are_site_pages(guide):
    assert guide.pinned and guide.kind == Article.Kind.ARTICLE and guide.author.is_team
    for page in guide.published_recommendations():
        assert page.is_page and not page.allow_comments
        assert page.get_absolute_url().startswith("/pages/")


def test_after_an_editors_changes_two_runs_change_nothing_at_all(guide):
    guide.title = "Edited by an editor"
    guide.pinned = False
    guide.save()
    guide.recommendation_links.filter(recommended__slug="how-comments-are-moderated").delete()
    before = state()

    outputs = [run_load_guide(), run_load_guide()]

    assert state() == before
    for output in outputs:
        assert "nothing was changed" in output
        assert "Published" not in output and "Recommended" not in output


def test_reset_restores_the_shipped_guide_and_its_links_and_says_what_it_did(guide, make_person):
    guide.title = "Edited by an editor"
    guide.author = make_person(name="Eda Editor")
    guide.save()
    guide.recommendation_links.filter(recommended__slug="how-comments-are-moderated").delete()

    output = run_load_guide("--reset")

    guide.refresh_from_db()
    assert guide.title.startswith("The Isotretinoin Journey") and guide.author.is_team
    assert [a.title for a in guide.published_recommendations()] == [
        "How we review medical content",
        "How comments are moderated",
    ]
    assert "Reset “The Isotretinoin Journey" in output and "title" in output and "author" in output
    assert (
        "recommends “How we review medical content” and “How comments are moderated” again"
        in output
    )
    assert "“How we review medical content” is as shipped." in output
    # The reset is one version of the guide, with the links it restored.
    latest = guide.history.latest()
    assert latest.history_change_reason == "Reset by load_guide --reset"
    assert [item["title"] for item in latest.links["recommended"]] == [
        "How we review medical content",
        "How comments are moderated",
    ]

    assert "is as shipped" in run_load_guide("--reset")  # and a second reset changes nothing


def test_a_fresh_run_says_what_it_published(db):
    output = run_load_guide()
    assert "Published “How we review medical content” (site page)." in output
    assert "pinned to the top of the home page" in output
    assert "The guide recommends" in output
