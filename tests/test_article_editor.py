"""The article form as editors use it: the editor widget, image descriptions, featured image, pin, pages."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from pytest_django.asserts import assertContains, assertNotContains

from articles.models import Article, Person

from .test_articles_admin import ADD, article_form, change_url


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def jpeg_with_location(size=(1600, 900)):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.0)}
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 120, 90)).save(buffer, format="JPEG", exif=exif)
    return SimpleUploadedFile("IMG_0042.jpg", buffer.getvalue(), content_type="image/jpeg")


@pytest.mark.django_db
class TestTheEditor:
    def test_the_body_has_the_toolbar_the_preview_frame_and_the_public_stylesheet(
        self, editor_client
    ):
        response = editor_client.get(ADD)

        for button in (
            "Heading",
            "Bold",
            "Italic",
            "Link",
            "• List",
            "1. List",
            "Quote",
            "Insert image…",
        ):
            assertContains(response, button)
        assertContains(response, 'accept="image/jpeg,image/png"')
        assertContains(response, 'class="article-editor-frame"')
        # The preview frame loads the public stylesheet, in standards mode as the public page.
        assertContains(response, 'srcdoc="&lt;!doctype html&gt;')
        assertContains(
            response,
            "&lt;link rel=&quot;stylesheet&quot; href=&quot;/static/css/site.css&quot;&gt;",
        )
        assertContains(response, "/static/articles/editor.js")
        assertContains(
            response, "/static/markdownx/js/markdownx"
        )  # still django-markdownx underneath
        assert "<script>" not in response.content.decode()  # the CSP allows no inline script

    def test_the_add_form_names_its_writer_as_the_author(self, editor_client, editor, make_person):
        writer = make_person(name="Eda Editor", user=editor)
        response = editor_client.get(ADD)
        assert response.context["adminform"].form.initial["author"] == writer.pk
        assertContains(response, "The editorial team")  # the choice for an unsigned article

    def test_a_writer_without_a_person_starts_with_the_editorial_team(self, editor_client):
        response = editor_client.get(ADD)
        team = Person.objects.editorial_team()
        assert response.context["adminform"].form.initial["author"] == team.pk


@pytest.mark.django_db
class TestImageDescriptions:
    def test_an_image_without_alternative_text_is_refused_by_name(self, editor_client):
        body = "Intro.\n\n![](/media/markdownx/4f2a9c.jpg)\n\n![Dry lips](/media/markdownx/ok.jpg)"

        response = editor_client.post(ADD, article_form(body=body))

        assert response.status_code == 200
        assertContains(response, "No alternative text: “4f2a9c.jpg”")
        assertContains(response, "![decorative](…)")
        assert not Article.objects.exists()

    def test_a_described_or_decorative_image_is_accepted(self, editor_client):
        body = (
            "![Dry, cracked lips](/media/markdownx/a.jpg)\n\n![decorative](/media/markdownx/b.png)"
        )

        response = editor_client.post(ADD, article_form(body=body))

        assert response.status_code == 302
        html = Article.objects.get().body_html
        assert 'alt="Dry, cracked lips"' in html and 'alt=""' in html

    def test_reverting_cannot_bring_back_an_image_without_a_description(
        self, editor_client, article
    ):
        response = editor_client.post(
            change_url(article), article_form(article, body="![](/x.png)")
        )
        assert response.status_code == 200
        assertContains(response, "“x.png”")


@pytest.mark.django_db
class TestFeaturedImage:
    def test_it_is_stored_without_its_metadata_and_shown_on_the_home_page(
        self, editor_client, media_root, client
    ):
        data = article_form(
            status="published",
            featured_image=jpeg_with_location((2400, 1200)),
            featured_image_alt="A tube of lip balm on a bathroom shelf",
        )

        response = editor_client.post(ADD, data)

        assert response.status_code == 302, response.context["errors"]
        article = Article.objects.get()
        assert (article.featured_image_width, article.featured_image_height) == (2000, 1000)
        stored = (media_root / article.featured_image.name).read_bytes()
        assert b"PhoneMaker" not in stored and b"Exif" not in stored
        home = client.get("/").content.decode()
        assert f'src="{article.featured_image.url}"' in home
        assert 'alt="A tube of lip balm on a bathroom shelf"' in home
        assert 'width="2000" height="1000"' in home

    def test_it_is_the_image_shared_by_opengraph_and_twitter(
        self, editor_client, media_root, client, settings
    ):
        settings.SITE_URL = "https://blog.example.org"
        editor_client.post(
            ADD,
            article_form(
                status="published",
                featured_image=jpeg_with_location((1200, 630)),
                featured_image_alt="A dermatologist's consulting room",
            ),
        )
        article = Article.objects.get()

        page = client.get(article.get_absolute_url())

        image_url = f"https://blog.example.org{article.featured_image.url}"
        assertContains(page, f'<meta property="og:image" content="{image_url}">', html=True)
        assertContains(page, '<meta property="og:image:width" content="1200">', html=True)
        assertContains(page, '<meta name="twitter:card" content="summary_large_image">', html=True)
        assertContains(page, f'<meta name="twitter:image" content="{image_url}">', html=True)
        assertContains(page, "A dermatologist&#x27;s consulting room")
        assertContains(page, f'"image": "{image_url}"')  # and in the JSON-LD

    def test_without_one_there_is_no_image_tag_and_a_small_card(self, client, article):
        page = client.get(article.get_absolute_url())
        assertNotContains(page, "og:image")
        assertContains(page, '<meta name="twitter:card" content="summary">', html=True)

    def test_it_needs_a_description(self, editor_client, media_root):
        response = editor_client.post(ADD, article_form(featured_image=jpeg_with_location()))

        assert response.status_code == 200
        assertContains(response, "Describe the featured image")
        assert not Article.objects.exists()

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (b"<svg onload=alert(1)>", "Upload a valid image"),
            (b"GIF89a" + b"\x00" * 40, "Upload a valid image"),
        ],
    )
    def test_a_hostile_file_gets_a_message_next_to_the_field(
        self, editor_client, media_root, content, message
    ):
        upload = SimpleUploadedFile("x.jpg", content, content_type="image/jpeg")
        response = editor_client.post(
            ADD, article_form(featured_image=upload, featured_image_alt="x")
        )

        assert response.status_code == 200
        assertContains(response, message)

    def test_a_gif_is_refused_with_its_name(self, editor_client, media_root):
        buffer = io.BytesIO()
        Image.new("RGB", (4, 4)).save(buffer, format="GIF")
        upload = SimpleUploadedFile("x.gif", buffer.getvalue(), content_type="image/gif")

        response = editor_client.post(
            ADD, article_form(featured_image=upload, featured_image_alt="x")
        )

        assertContains(response, "Only JPEG and PNG images are accepted, not GIF.")


@pytest.mark.django_db
class TestPinning:
    def test_a_pinned_article_comes_first_on_the_home_page_only(self, client, make_article):
        now = timezone.now()
        pinned = make_article(
            title="Older but pinned", pinned=True, published_at=now - timedelta(days=30)
        )
        make_article(title="Newest of all", published_at=now - timedelta(hours=1))

        home = client.get("/").content.decode()
        assert home.index("Older but pinned") < home.index("Newest of all")
        assert "Featured" in home
        year = client.get(f"/archive/{pinned.published_at.year}/").content.decode()
        if pinned.published_at.year == now.year:  # the archive stays in date order
            assert year.index("Newest of all") < year.index("Older but pinned")

    def test_the_editor_pins_in_the_form(self, editor_client, article):
        editor_client.post(change_url(article), article_form(article, pinned="on"))
        article.refresh_from_db()
        assert article.pinned


@pytest.mark.django_db
class TestSitePagesInTheAdmin:
    def test_the_list_offers_to_add_a_site_page(self, editor_client):
        assertContains(
            editor_client.get(reverse("admin:articles_article_changelist")), "Add site page"
        )

    def test_the_page_form_has_no_medical_review_topics_or_references_and_comments_off(
        self, editor_client
    ):
        response = editor_client.get(ADD + "?kind=page")

        assertContains(response, "Add site page")
        assertNotContains(response, "Medical review")
        assertNotContains(response, "References (drag to order)")
        assertNotContains(response, 'name="topics"')
        form = response.context["adminform"].form
        assert form.initial["kind"] == "page" and form.initial["allow_comments"] is False

    def test_an_editor_adds_a_site_page(self, editor_client):
        data = article_form(
            title="About us", slug="about", body="Who we are.", status="published", kind="page"
        )
        for name in ("allow_comments", "next_review_due"):
            data.pop(name)
        data.pop("references-TOTAL_FORMS"), data.pop("references-INITIAL_FORMS")

        response = editor_client.post(ADD + "?kind=page", data)

        assert response.status_code == 302, response.context["errors"]
        page = Article.objects.get(slug="about")
        assert page.is_page and not page.allow_comments
        assert page.get_absolute_url() == "/pages/about/"
