"""What makes a medical article trustworthy: who wrote and reviewed it and when,
the disclaimer, the review-overdue notice, references, structured data and meta tags."""

import json
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from articles.admin import ReferenceForm
from articles.models import DEFAULT_DISCLAIMER, Article, Person, Reference, Topic

SITE_URL = "https://blog.example.org"


@pytest.fixture(autouse=True)
def _public_site_url(settings):
    settings.SITE_URL = SITE_URL


class _Page(HTMLParser):
    """The <script> elements (attributes and text) and every tag with a style attribute."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.scripts = []
        self.styled = []
        self._in_script = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "style" in attrs:
            self.styled.append(tag)
        if tag == "script":
            self._in_script = {"attrs": attrs, "text": ""}
            self.scripts.append(self._in_script)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script is not None:
            self._in_script["text"] += data


def parse(response):
    page = _Page()
    page.feed(response.content.decode())
    return page


def structured_data(response):
    blocks = [s for s in parse(response).scripts if s["attrs"].get("type") == "application/ld+json"]
    assert len(blocks) == 1
    return json.loads(blocks[0]["text"])


@pytest.fixture
def reviewed(make_article, editor, make_person, reviewer, record_review):
    article = make_article(
        title="Isotretinoin and dry skin",
        summary="Why it happens and what helps.",
        author=make_person(name="Eda Editor", slug="eda-editor", user=editor),
        next_review_due=timezone.localdate() + timedelta(days=200),
    )
    article.topics.add(Topic.objects.create(name="Side effects", slug="side-effects"))
    Reference.objects.create(
        article=article,
        title="Second source",
        url="https://example.org/second",
        position=2,
    )
    Reference.objects.create(
        article=article,
        title="First source",
        url="https://example.org/first",
        doi="10.1001/jamadermatol.2019.1234",
        pubmed_id="31017924",
        position=1,
    )
    record_review(article, reviewer, on=date(2026, 1, 15))
    article.refresh_from_db()
    return article


@pytest.mark.django_db
class TestWhoAndWhen:
    def test_the_page_names_author_reviewer_and_review_date(self, client, reviewed):
        response = client.get(reviewed.get_absolute_url())
        assertContains(response, 'By <a href="/people/eda-editor/" rel="author">Eda Editor</a>')
        assertContains(
            response,
            'Medically reviewed by <a href="/people/dr-rae-reviewer/">Dr Rae Reviewer</a>, MD, FAAD on',
        )
        assertContains(response, '<time datetime="2026-01-15">15 January 2026</time>', html=True)

    def test_an_unreviewed_article_says_so(self, client, article):
        assertContains(
            client.get(article.get_absolute_url()), "has not yet been medically reviewed"
        )


@pytest.mark.django_db
class TestDisclaimer:
    def test_the_standard_disclaimer_shows_near_the_top(self, client, article):
        response = client.get(article.get_absolute_url())
        content = response.content.decode()
        assert article.disclaimer == DEFAULT_DISCLAIMER
        assert "not medical advice" in DEFAULT_DISCLAIMER and "dermatologist" in DEFAULT_DISCLAIMER
        assertContains(response, DEFAULT_DISCLAIMER)
        assert content.index(DEFAULT_DISCLAIMER) < content.index('class="article-body"')

    def test_editors_can_write_their_own_and_it_is_shown_as_text(self, client, make_article):
        article = make_article(disclaimer="Pregnancy warning: <b>never</b> take this if pregnant.")
        response = client.get(article.get_absolute_url())
        assertContains(
            response, "Pregnancy warning: &lt;b&gt;never&lt;/b&gt; take this if pregnant."
        )
        assertNotContains(response, DEFAULT_DISCLAIMER)

    def test_an_emptied_disclaimer_falls_back_to_the_standard_one(self, client, make_article):
        article = make_article(disclaimer="   ")
        assertContains(client.get(article.get_absolute_url()), DEFAULT_DISCLAIMER)


@pytest.mark.django_db
class TestReviewOverdue:
    NOTICE = "due for a fresh medical review"

    @pytest.mark.parametrize(
        "days_until_due, overdue",
        [(-1, True), (-400, True), (0, False), (30, False), (None, False)],
    )
    def test_the_notice_shows_once_the_review_date_has_passed(
        self, client, make_article, days_until_due, overdue
    ):
        due = (
            None
            if days_until_due is None
            else timezone.localdate() + timedelta(days=days_until_due)
        )
        article = make_article(next_review_due=due)

        response = client.get(article.get_absolute_url())

        assert (self.NOTICE in response.content.decode()) is overdue
        assert article.review_overdue is overdue

    def test_the_admin_filter_lists_overdue_articles_only(self, editor_client, make_article):
        today = timezone.localdate()
        overdue = make_article(title="Overdue", next_review_due=today - timedelta(days=1))
        make_article(title="Due later", next_review_due=today + timedelta(days=10))
        make_article(title="No date")
        overdue_draft = make_article(
            title="Overdue draft",
            status=Article.Status.DRAFT,
            next_review_due=today - timedelta(days=5),
        )

        response = editor_client.get(
            reverse("admin:articles_article_changelist") + "?review=overdue"
        )

        assert response.status_code == 200
        assert set(response.context["cl"].result_list) == {overdue, overdue_draft}
        assertContains(response, "Overdue for review")


@pytest.mark.django_db
class TestReferences:
    def test_shown_as_a_numbered_list_in_the_editors_order(self, client, reviewed):
        response = client.get(reviewed.get_absolute_url())
        content = response.content.decode()

        assertContains(response, '<h2 id="references-heading">References</h2>', html=True)
        assert content.index("First source") < content.index("Second source")
        assert content.index("article-body") < content.index("References")
        assertContains(
            response,
            '<li id="ref-1"><a href="https://example.org/first">First source</a>. '
            'DOI: <a href="https://doi.org/10.1001/jamadermatol.2019.1234">10.1001/jamadermatol.2019.1234</a>. '
            'PubMed: <a href="https://pubmed.ncbi.nlm.nih.gov/31017924/">31017924</a></li>',
            html=True,
        )
        assertContains(
            response,
            '<li id="ref-2"><a href="https://example.org/second">Second source</a></li>',
            html=True,
        )

    def test_no_references_no_heading(self, client, article):
        assertNotContains(client.get(article.get_absolute_url()), "References")

    def test_a_doi_with_unusual_characters_is_a_safe_link(self, article):
        reference = Reference(
            article=article, title="x", url="https://example.org", doi='10.1000/a"b<c>'
        )
        assert reference.doi_url == "https://doi.org/10.1000/a%22b%3Cc%3E"

    @pytest.mark.parametrize(
        "field, value",
        [
            ("doi", "11.1000/abc"),
            ("doi", "10.12/abc"),
            ("doi", "10.1000"),
            ("doi", "doi 10.1000/abc"),
            ("doi", "10.1000/has space"),
            ("pubmed_id", "abc"),
            ("pubmed_id", "12a"),
            ("pubmed_id", "0"),
            ("pubmed_id", "-5"),
            ("pubmed_id", "12345678901"),
            ("url", "javascript:alert(1)"),
            ("url", "ftp://example.org/paper.pdf"),
            ("url", "not a url"),
            ("title", ""),
        ],
    )
    def test_bad_identifiers_are_refused(self, article, field, value):
        reference = Reference(
            article=article,
            title="A study",
            url="https://example.org/study",
            doi="10.1001/jamadermatol.2019.1234",
            pubmed_id="31017924",
        )
        setattr(reference, field, value)
        with pytest.raises(ValidationError) as refused:
            reference.full_clean()
        assert field in refused.value.message_dict

    def test_good_identifiers_are_accepted(self, article):
        Reference(
            article=article,
            title="A study",
            url="https://example.org/study",
            doi="10.1016/S0140-6736(19)30591-5",
            pubmed_id="31017924",
        ).full_clean()

    @pytest.mark.parametrize(
        "doi, pubmed_id",
        [
            ("https://doi.org/10.1000/xyz", "https://pubmed.ncbi.nlm.nih.gov/31017924/"),
            ("doi:10.1000/xyz", "PMID: 31017924"),
            ("  10.1000/xyz ", " 31017924 "),
        ],
    )
    def test_the_admin_form_keeps_only_the_identifier_of_a_pasted_link(
        self, article, doi, pubmed_id
    ):
        form = ReferenceForm(
            data={
                "title": "A study",
                "url": "https://example.org",
                "doi": doi,
                "pubmed_id": pubmed_id,
            },
            instance=Reference(article=article),
        )
        assert form.is_valid(), form.errors
        assert form.cleaned_data["doi"] == "10.1000/xyz"
        assert form.cleaned_data["pubmed_id"] == "31017924"

    def test_the_admin_form_explains_a_bad_doi(self, article):
        form = ReferenceForm(
            data={
                "title": "A study",
                "url": "https://example.org",
                "doi": "12345",
                "pubmed_id": "",
            },
            instance=Reference(article=article),
        )
        assert not form.is_valid()
        assert form.errors["doi"] == ["A DOI looks like 10.1001/jamadermatol.2019.1234."]


def article_admin_post(response, **fields):
    """POST data for the article admin, with every inline's management form the page rendered."""
    data = {
        "title": "Sunscreen on isotretinoin",
        "slug": "sunscreen",
        "summary": "Why and how.",
        "body": "## Why\n\nYour skin burns faster.",
        "status": "published",
        "published_at_0": "2026-01-01",
        "published_at_1": "09:00:00",
        "author": str(Person.objects.editorial_team().pk),
        "allow_comments": "on",
        "next_review_due": "",
        "disclaimer": DEFAULT_DISCLAIMER,
    }
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = str(value)
    data.update(fields)
    return data


@pytest.mark.django_db
class TestEditorsAddReferences:
    def test_an_editor_adds_topics_and_references_in_the_article_admin(self, editor_client):
        topic = Topic.objects.create(name="Sun", slug="sun")
        add_url = reverse("admin:articles_article_add")
        page = editor_client.get(add_url)
        assert page.status_code == 200
        assertContains(page, "References (drag to order)")

        response = editor_client.post(
            add_url,
            article_admin_post(
                page,
                topics=[str(topic.pk)],
                **{
                    "references-TOTAL_FORMS": "2",
                    "references-0-title": "Sun protection study",
                    "references-0-url": "https://example.org/sun",
                    "references-0-doi": "https://doi.org/10.1000/sun.1",
                    "references-0-pubmed_id": "123456",
                    "references-0-position": "1",
                    "references-1-title": "Second study",
                    "references-1-url": "https://example.org/two",
                    "references-1-doi": "",
                    "references-1-pubmed_id": "",
                    "references-1-position": "2",
                },
            ),
        )

        assert response.status_code == 302, response.context and response.context["errors"]
        article = Article.objects.get(slug="sunscreen")
        assert list(article.topics.all()) == [topic]
        assert [(r.title, r.doi, r.pubmed_id) for r in article.references.all()] == [
            ("Sun protection study", "10.1000/sun.1", "123456"),
            ("Second study", "", ""),
        ]
        assert (
            editor_client.get(
                reverse("admin:articles_article_change", args=[article.pk])
            ).status_code
            == 200
        )

    def test_a_bad_reference_gets_a_message_next_to_the_field(self, editor_client):
        add_url = reverse("admin:articles_article_add")
        page = editor_client.get(add_url)
        response = editor_client.post(
            add_url,
            article_admin_post(
                page,
                **{
                    "references-TOTAL_FORMS": "1",
                    "references-0-title": "Study",
                    "references-0-url": "javascript:alert(1)",
                    "references-0-doi": "",
                    "references-0-pubmed_id": "PMID twelve",
                    "references-0-position": "1",
                },
            ),
        )
        assert response.status_code == 200
        assertContains(response, "Enter a valid URL.")
        assertContains(response, "A PubMed ID is a number")
        assert not Article.objects.filter(slug="sunscreen").exists()


@pytest.mark.django_db
class TestStructuredData:
    def test_a_medical_web_page_checked_field_by_field(self, client, reviewed):
        data = structured_data(client.get(reviewed.get_absolute_url()))
        url = f"{SITE_URL}{reviewed.get_absolute_url()}"

        assert data["@context"] == "https://schema.org"
        assert data["@type"] == "MedicalWebPage"
        assert data["headline"] == "Isotretinoin and dry skin"
        assert data["name"] == "Isotretinoin and dry skin"
        assert data["description"] == "Why it happens and what helps."
        assert data["url"] == url
        assert data["mainEntityOfPage"] == url
        assert data["inLanguage"] == "en-GB"
        assert data["author"] == {
            "@type": "Person",
            "name": "Eda Editor",
            "url": f"{SITE_URL}/people/eda-editor/",
        }
        assert data["publisher"] == {
            "@type": "Organization",
            "name": "Clear Skin Notes",
            "url": f"{SITE_URL}/",
        }
        assert data["datePublished"] == reviewed.published_at.isoformat(timespec="seconds")
        assert data["dateModified"] == reviewed.updated_at.isoformat(timespec="seconds")
        assert data["lastReviewed"] == "2026-01-15"
        assert data["reviewedBy"] == {
            "@type": "Person",
            "name": "Dr Rae Reviewer",
            "url": f"{SITE_URL}/people/dr-rae-reviewer/",
            "jobTitle": "Consultant dermatologist",
            "honorificSuffix": "MD, FAAD",
        }
        assert data["keywords"] == ["Side effects"]
        assert data["citation"] == [
            {
                "@type": "CreativeWork",
                "name": "First source",
                "url": "https://example.org/first",
                "sameAs": [
                    "https://doi.org/10.1001/jamadermatol.2019.1234",
                    "https://pubmed.ncbi.nlm.nih.gov/31017924/",
                ],
            },
            {"@type": "CreativeWork", "name": "Second source", "url": "https://example.org/second"},
        ]

    def test_without_author_review_or_references(self, client, article):
        data = structured_data(client.get(article.get_absolute_url()))
        assert data["author"] == {
            "@type": "Organization",
            "name": "The editorial team",
            "url": f"{SITE_URL}/people/editorial-team/",
        }
        for absent in ("lastReviewed", "reviewedBy", "citation", "keywords"):
            assert absent not in data

    @pytest.mark.parametrize(
        "title",
        [
            "</script><script>alert(1)</script>",
            "<!-- <script> & </SCRIPT >",
            'Quotes " and \\ backslash \u2028 separator',
        ],
    )
    def test_a_hostile_title_cannot_break_out_of_the_script(self, client, make_article, title):
        article = make_article(title=title, summary="</script>")
        response = client.get(article.get_absolute_url())
        content = response.content.decode()

        scripts = parse(response).scripts
        assert len(scripts) == 1  # no second script was opened by the title
        data = json.loads(scripts[0]["text"])
        assert data["headline"] == title
        assert data["description"] == "</script>"
        assert "<script>alert(1)" not in content

    def test_the_only_inline_script_is_the_json_ld_data_and_nothing_has_a_style_attribute(
        self, client, reviewed
    ):
        for url in [
            "/",
            reviewed.get_absolute_url(),
            "/topics/",
            "/topics/side-effects/",
            "/search/?q=skin",
        ]:
            page = parse(client.get(url))
            inline = [s for s in page.scripts if "src" not in s["attrs"]]
            assert all(s["attrs"].get("type") == "application/ld+json" for s in inline), url
            assert page.styled == [], url


@pytest.mark.django_db
class TestMetaTags:
    def test_article_page_meta(self, client, reviewed):
        response = client.get(reviewed.get_absolute_url())
        url = f"{SITE_URL}{reviewed.get_absolute_url()}"
        for tag in [
            f'<link rel="canonical" href="{url}">',
            '<meta name="description" content="Why it happens and what helps.">',
            '<meta property="og:title" content="Isotretinoin and dry skin">',
            '<meta property="og:description" content="Why it happens and what helps.">',
            f'<meta property="og:url" content="{url}">',
            '<meta property="og:type" content="article">',
            '<meta property="og:site_name" content="Clear Skin Notes">',
            '<meta name="twitter:card" content="summary">',
            f'<meta property="article:published_time" content="{reviewed.published_at.isoformat(timespec="seconds")}">',
            '<meta property="article:tag" content="Side effects">',
        ]:
            assertContains(response, tag, html=True)

    def test_meta_values_are_escaped(self, client, make_article):
        article = make_article(title='A "quoted" <title>', summary='Summary with "quotes" & <tags>')
        response = client.get(article.get_absolute_url())
        assertContains(
            response,
            '<meta property="og:title" content="A &quot;quoted&quot; &lt;title&gt;">',
        )
        assertContains(
            response,
            '<meta property="og:description" content="Summary with &quot;quotes&quot; &amp; &lt;tags&gt;">',
        )

    @pytest.mark.parametrize(
        "url, canonical",
        [("/", "/"), ("/?page=2", "/?page=2"), ("/topics/", "/topics/")],
    )
    def test_list_pages_have_an_absolute_canonical_url(self, client, make_article, url, canonical):
        for _ in range(11):
            make_article()
        response = client.get(url)
        assertContains(response, f'<link rel="canonical" href="{SITE_URL}{canonical}">', html=True)
        assertContains(response, '<meta property="og:type" content="website">', html=True)


@pytest.mark.django_db
def test_article_page_queries_do_not_grow_with_references_and_topics(
    client, make_article, django_assert_max_num_queries
):
    def queries_for(count):
        article = make_article()
        for n in range(count):
            article.topics.add(
                Topic.objects.create(name=f"Topic {count}-{n}", slug=f"t-{count}-{n}")
            )
            Reference.objects.create(
                article=article, title=f"Ref {n}", url="https://example.org", position=n
            )
        with django_assert_max_num_queries(12) as captured:
            assert client.get(article.get_absolute_url()).status_code == 200
        return len(captured)

    assert queries_for(1) == queries_for(25)


@pytest.mark.django_db
def test_no_commenter_data_in_feeds_sitemap_or_structured_data(client, reviewed):
    from comments.models import Comment

    for status in (Comment.Status.APPROVED, Comment.Status.PENDING):
        Comment.objects.create(
            article=reviewed,
            name=f"Zed {status} Commenter",
            email=f"zed.{status}@reader.example",
            website="https://zed.example",
            body="Thanks for this.",
            status=status,
            ip_address="203.0.113.9",
        )
    outputs = {
        "rss": client.get("/feed/").content.decode(),
        "atom": client.get("/feed/atom/").content.decode(),
        "topic feed": client.get("/topics/side-effects/feed/").content.decode(),
        "sitemap": client.get("/sitemap.xml").content.decode(),
        "sitemap page": client.get("/sitemap-articles.xml").content.decode(),
        "json-ld": json.dumps(structured_data(client.get(reviewed.get_absolute_url()))),
    }
    for name, text in outputs.items():
        for private in ("reader.example", "203.0.113.9", "Zed", "zed.example"):
            assert private not in text, f"{private} in {name}"
    page = client.get(reviewed.get_absolute_url()).content.decode()
    assert "reader.example" not in page
    assert "203.0.113.9" not in page
