"""People readers can check: person pages, bylines and review lines that link to them,
their JSON-LD, and that no staff account's username or email reaches any public response."""

import io
import json
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from pytest_django.asserts import assertContains

from articles.models import Article, Person, Reference, Topic

SITE_URL = "https://blog.example.org"


@pytest.fixture(autouse=True)
def _public_site_url(settings):
    settings.SITE_URL = SITE_URL


def json_ld(response):
    [block] = re.findall(
        r'<script type="application/ld\+json">(.*?)</script>', response.content.decode(), re.S
    )
    return json.loads(block)


def text_of(response):
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def writer(make_person, editor):
    """An author linked to a staff account whose username and email must never be shown."""
    editor.username, editor.email = "eda_login_7731", "eda.private@staff.example"
    editor.save()
    return make_person(
        name="Eda Writer",
        slug="eda-writer",
        credentials="MSc",
        role="Health writer",
        bio="Eda writes about skin.\n\nShe trained as a pharmacist.",
        registration="GPhC 2045678",
        registration_url="https://www.pharmacyregulation.org/registers/pharmacist/2045678",
        profile_urls="https://orcid.org/0000-0002-1825-0097\n\nhttps://www.linkedin.com/in/eda",
        user=editor,
    )


@pytest.mark.django_db
class TestPersonPage:
    def test_shows_who_they_are_and_what_readers_can_check(self, client, writer):
        response = client.get("/people/eda-writer/")

        assert response.status_code == 200
        assertContains(
            response,
            '<h1 id="person-name">Eda Writer<span class="visually-hidden">,</span> <small>MSc</small></h1>',
            html=True,
        )
        assertContains(response, "Health writer")
        assertContains(response, "<p>Eda writes about skin.</p>", html=True)
        assertContains(
            response,
            '<a href="https://www.pharmacyregulation.org/registers/pharmacist/2045678">GPhC 2045678</a>',
            html=True,
        )
        assertContains(
            response,
            '<a href="https://orcid.org/0000-0002-1825-0097" rel="me">orcid.org</a>',
            html=True,
        )
        assertContains(
            response,
            '<a href="https://www.linkedin.com/in/eda" rel="me">linkedin.com</a>',
            html=True,
        )
        assertContains(
            response, f'<link rel="canonical" href="{SITE_URL}/people/eda-writer/">', html=True
        )

    def test_lists_their_listed_articles_and_what_they_reviewed(
        self, client, make_article, writer, reviewer, record_review
    ):
        written = make_article(title="Dry lips", author=writer)
        make_article(title="Their draft", author=writer, status=Article.Status.DRAFT)
        make_article(title="Their page", author=writer, kind=Article.Kind.PAGE)
        make_article(title="Someone else's")
        reviewed = make_article(title="Reviewed one")
        record_review(reviewed, reviewer)
        record_review(written, reviewer)

        page = client.get("/people/eda-writer/").content.decode()
        mine = page[page.index('id="written-heading"') : page.index("</article>")]
        assert "Dry lips" in mine
        for absent in ("Their draft", "Their page", "Someone else's", "Reviewed one"):
            assert absent not in mine

        theirs = client.get("/people/dr-rae-reviewer/")
        text = text_of(theirs)
        assert "Articles medically reviewed by Dr Rae Reviewer" in text
        assert "Reviewed one" in text and "Dry lips" in text
        # A reviewer who wrote nothing has no empty "Articles by" list.
        assert "Articles by Dr Rae Reviewer" not in text
        assert "No articles yet." not in text

        # A writer who reviews nothing has no empty review list.
        assert "medically reviewed by" not in text_of(client.get("/people/eda-writer/"))

    def test_a_person_with_nothing_published_yet_says_so_once(self, client, reviewer):
        text = text_of(client.get("/people/dr-rae-reviewer/"))
        assert text.count("No articles yet.") == 1
        assert "medically reviewed by" not in text

    def test_json_ld_person_with_job_title_credentials_and_same_as(self, client, writer):
        data = json_ld(client.get("/people/eda-writer/"))

        assert data == {
            "@context": "https://schema.org",
            "@type": "Person",
            "name": "Eda Writer",
            "url": f"{SITE_URL}/people/eda-writer/",
            "jobTitle": "Health writer",
            "honorificSuffix": "MSc",
            "mainEntityOfPage": f"{SITE_URL}/people/eda-writer/",
            "description": "Eda writes about skin.\n\nShe trained as a pharmacist.",
            "sameAs": [
                "https://www.pharmacyregulation.org/registers/pharmacist/2045678",
                "https://orcid.org/0000-0002-1825-0097",
                "https://www.linkedin.com/in/eda",
            ],
            "hasCredential": {
                "@type": "EducationalOccupationalCredential",
                "credentialCategory": "Professional registration",
                "name": "GPhC 2045678",
                "url": "https://www.pharmacyregulation.org/registers/pharmacist/2045678",
            },
        }

    def test_the_editorial_team_has_a_page_as_an_organization(self, client, make_article):
        make_article(title="By the team")
        response = client.get("/people/editorial-team/")

        assert response.status_code == 200
        assert "Articles by the editorial team By the team" in text_of(response)
        data = json_ld(response)
        assert data["@type"] == "Organization"
        assert data["name"] == "The editorial team"
        assert data["parentOrganization"]["name"] == "Clear Skin Notes"
        assert "jobTitle" not in data and "honorificSuffix" not in data

    def test_an_article_links_its_byline_and_review_line_to_the_people(
        self, client, make_article, writer, reviewer, record_review
    ):
        article = make_article(author=writer)
        record_review(article, reviewer)
        response = client.get(article.get_absolute_url())

        assertContains(
            response, 'By <a href="/people/eda-writer/" rel="author">Eda Writer</a>, MSc'
        )
        assertContains(
            response,
            'Medically reviewed by <a href="/people/dr-rae-reviewer/">Dr Rae Reviewer</a>, MD, FAAD',
        )

    @pytest.mark.parametrize(
        "url",
        [
            "/people/nobody/",
            "/people/eda-writer/?page=abc",
            "/people/eda-writer/?page=2",
            "/people/eda-writer/?reviewed=0",
        ],
    )
    def test_unknown_people_and_junk_page_numbers_are_404(self, client, writer, url):
        assert client.get(url).status_code == 404

    def test_long_lists_are_paged(self, client, make_article, writer):
        for n in range(23):
            make_article(
                title=f"Note {n:02d}",
                author=writer,
                published_at=timezone.now() - timedelta(days=n),
            )
        first, second = client.get("/people/eda-writer/"), client.get("/people/eda-writer/?page=2")
        assert "Note 00" in text_of(first) and "Note 19" in text_of(first)
        assert "Note 20" not in text_of(first)
        assertContains(first, 'href="?page=2" rel="next"')
        assert "Note 22" in text_of(second) and "Note 19" not in text_of(second)

    def test_is_one_shared_page_for_every_visitor(self, client, writer):
        first = Client().get("/people/eda-writer/")
        cache.clear()
        second = Client().get("/people/eda-writer/", REMOTE_ADDR="192.0.2.9")
        assert first.content == second.content
        assert "public" in first["Cache-Control"] and not first.cookies
        assert "Cookie" not in first.get("Vary", "")


@pytest.mark.django_db
def test_no_staff_username_or_email_on_any_public_response(
    client, make_article, writer, reviewer, record_review
):
    reviewer.username, reviewer.email = "rae_login_5512", "rae.private@staff.example"
    reviewer.save()
    article = make_article(title="Sun and isotretinoin", author=writer)
    article.topics.add(Topic.objects.create(name="Sun", slug="sun"))
    Reference.objects.create(article=article, title="A study", url="https://example.org/s")
    record_review(article, reviewer)
    urls = [
        "/",
        article.get_absolute_url(),
        "/people/eda-writer/",
        "/people/dr-rae-reviewer/",
        "/people/editorial-team/",
        "/topics/sun/",
        "/search/?q=sun",
        "/feed/",
        "/feed/atom/",
        "/sitemap.xml",
        "/sitemap-people.xml",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode() + str(response.headers)
        for private in (
            "eda_login_7731",
            "eda.private",
            "rae_login_5512",
            "rae.private",
            "staff.example",
        ):
            assert private not in body, f"{private} in {url}"
    people = client.get("/sitemap-people.xml").content.decode()
    assert f"{SITE_URL}/people/eda-writer/" in people
    assert f"{SITE_URL}/people/dr-rae-reviewer/" in people
    assert f"{SITE_URL}/sitemap-people.xml" in client.get("/sitemap.xml").content.decode()


@pytest.mark.django_db
def test_the_person_page_costs_the_same_queries_for_few_and_many_articles(
    make_article, writer, reviewer, record_review, django_assert_max_num_queries
):
    def queries_for(count):
        while Article.objects.filter(author=writer).count() < count:
            article = make_article(author=writer)
            record_review(article, reviewer)
        counts = []
        for url in ("/people/eda-writer/", "/people/dr-rae-reviewer/"):
            cache.clear()
            # The person, their articles, their reviews, the footer's site pages.
            with django_assert_max_num_queries(4) as captured:
                assert Client().get(url).status_code == 200
            counts.append(len(captured))
        return counts

    assert queries_for(1) == queries_for(30)


@pytest.mark.django_db
def test_people_on_the_article_page_cost_no_query(
    make_article, writer, reviewer, record_review, django_assert_max_num_queries
):
    def queries(article):
        cache.clear()
        with django_assert_max_num_queries(6) as captured:
            assert Client().get(article.get_absolute_url()).status_code == 200
        return len(captured)

    by_the_team = make_article()
    with_people = make_article(author=writer)
    record_review(with_people, reviewer)
    record_review(by_the_team, reviewer)
    changed = make_article(author=writer)
    record_review(changed, reviewer)
    changed.body += "\n\nAn update."
    changed.save()

    # The article (with its author, last review and reviewer), topics, references,
    # recommendations with the footer's pages, the review history, the comments.
    assert queries(by_the_team) == queries(with_people) == queries(changed) == 6


def _jpeg_with_gps():
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.0)}
    buffer = io.BytesIO()
    Image.new("RGB", (900, 900), (200, 150, 120)).save(buffer, format="JPEG", exif=exif)
    return SimpleUploadedFile("me.jpg", buffer.getvalue(), content_type="image/jpeg")


@pytest.mark.django_db
class TestPeopleInTheAdmin:
    def post(self, client, person=None, **fields):
        data = {
            "name": "Guest Author",
            "slug": "guest-author",
            "credentials": "",
            "role": "",
            "bio": "",
            "registration": "",
            "registration_url": "",
            "profile_urls": "",
            **fields,
        }
        url = (
            reverse("admin:articles_person_change", args=[person.pk])
            if person
            else reverse("admin:articles_person_add")
        )
        return client.post(url, data)

    def test_an_editor_adds_a_guest_author_with_a_photo_stored_without_metadata(
        self, editor_client, settings, tmp_path
    ):
        settings.MEDIA_ROOT = tmp_path
        response = self.post(editor_client, photo=_jpeg_with_gps())

        assert response.status_code == 302
        person = Person.objects.get(slug="guest-author")
        with Image.open(person.photo.path) as stored:
            assert not stored.getexif()
        assert person.photo.name != "markdownx/me.jpg" and person.user is None

    def test_profile_links_must_be_web_addresses(self, editor_client):
        response = self.post(
            editor_client, profile_urls="https://ok.example/me\njavascript:alert(1)"
        )
        assertContains(response, "Not an address: “javascript:alert(1)”")
        assert not Person.objects.filter(slug="guest-author").exists()

    def test_an_editor_cannot_link_an_account_nor_rename_a_reviewer(
        self, editor_client, editor, reviewer
    ):
        self.post(editor_client, user=str(editor.pk))
        assert Person.objects.get(slug="guest-author").user is None  # the field is not theirs

        person = reviewer.person
        response = self.post(editor_client, person, name="Dr Someone Famous", slug=person.slug)
        assert response.status_code == 403
        person.refresh_from_db()
        assert person.name == "Dr Rae Reviewer"

    def test_a_reviewer_changes_their_own_profile_and_no_one_elses(
        self, reviewer_client, reviewer, make_person
    ):
        own = reviewer.person
        response = self.post(
            reviewer_client, own, name=own.name, slug=own.slug, credentials="MD, FAAD, PhD"
        )
        assert response.status_code == 302
        own.refresh_from_db()
        assert own.credentials == "MD, FAAD, PhD" and own.user == reviewer

        other = make_person(name="Someone Else", slug="someone-else")
        assert self.post(reviewer_client, other, slug="someone-else").status_code == 403

    def test_a_superuser_links_a_person_to_an_account(self, client, superuser, editor):
        client.force_login(superuser)
        assert self.post(client, user=str(editor.pk)).status_code == 302
        assert Person.objects.get(slug="guest-author").user == editor

    def test_the_editorial_team_cannot_be_deleted(self, client, superuser):
        client.force_login(superuser)
        team = Person.objects.editorial_team()
        url = reverse("admin:articles_person_delete", args=[team.pk])
        assert client.post(url, {"post": "yes"}).status_code == 403
        assert Person.objects.filter(pk=team.pk).exists()
