"""The markdownx editor's preview and upload endpoints: editors only, images only."""

import io
import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from articles import markdown as markdown_module

PREVIEW = "/admin-tools/markdown/preview/"
UPLOAD = "/admin-tools/markdown/upload/"


def image_bytes(fmt, size=(4, 3)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def upload(client, content, name="photo.png", content_type="image/png"):
    return client.post(
        UPLOAD,
        {"image": SimpleUploadedFile(name, content, content_type=content_type)},
        HTTP_X_REQUESTED_WITH="XMLHttpRequest",
    )


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_the_widget_posts_to_our_views_not_markdownx_urls(settings):
    assert reverse("markdown-preview") == settings.MARKDOWNX_URLS_PATH == PREVIEW
    assert reverse("markdown-upload") == settings.MARKDOWNX_UPLOAD_URLS_PATH == UPLOAD


@pytest.mark.django_db
def test_markdownx_own_views_are_not_routed(client):
    assert client.post("/markdownx/markdownify/", {"content": "x"}).status_code == 404
    assert client.post("/markdownx/upload/").status_code == 404


@pytest.mark.django_db
class TestWhoMayCallThem:
    @pytest.mark.parametrize("url", [PREVIEW, UPLOAD])
    def test_anonymous_users_are_sent_to_log_in(self, client, url, media_root):
        response = client.post(url, {"content": "# hi"})
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")

    @pytest.mark.parametrize("url", [PREVIEW, UPLOAD])
    def test_staff_who_cannot_edit_articles_are_refused(
        self, client, staff_without_permissions, url, media_root
    ):
        client.force_login(staff_without_permissions)
        assert client.post(url, {"content": "# hi"}).status_code == 403

    def test_preview_is_post_only(self, editor_client):
        assert editor_client.get(PREVIEW).status_code == 405


@pytest.mark.django_db
class TestPreview:
    def test_renders_with_the_reader_renderer(self, editor_client):
        response = editor_client.post(
            PREVIEW, {"content": "## Heading\n\n- one\n- two\n\n<script>x</script>"}
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "<h2>Heading" in html and " id=" not in html  # no DOM clobbering in the admin
        assert "<li>one</li>" in html
        assert "<script" not in html
        assert response["Cache-Control"] == "no-store"

    def test_text_too_costly_to_render_gets_a_message_not_a_stuck_worker(
        self, editor_client, monkeypatch
    ):
        monkeypatch.setattr(markdown_module, "RENDER_SECONDS", 1)
        started = time.monotonic()
        response = editor_client.post(PREVIEW, {"content": "[" * 50_000})
        assert time.monotonic() - started < 3
        assert response.status_code == 200
        assert "takes too long to render" in response.content.decode()

    def test_csrf_is_enforced(self, client, editor):
        from django.test import Client

        strict = Client(enforce_csrf_checks=True)
        strict.force_login(editor)
        assert strict.post(PREVIEW, {"content": "x"}).status_code == 403


@pytest.mark.django_db
class TestUpload:
    @pytest.mark.parametrize(("fmt", "extension"), [("PNG", "png"), ("JPEG", "jpg")])
    def test_accepts_jpeg_and_png_with_the_detected_extension(
        self, editor_client, media_root, fmt, extension
    ):
        # The client's name and content type lie; the stored name follows the bytes.
        response = upload(
            editor_client, image_bytes(fmt), name="evil.html", content_type="text/html"
        )

        assert response.status_code == 200
        code = json.loads(response.content)["image_code"]
        assert code.startswith("![](/media/markdownx/") and code.endswith(f".{extension})")
        stored = list((media_root / "markdownx").iterdir())
        assert [path.suffix for path in stored] == [f".{extension}"]

    @pytest.mark.parametrize(
        ("content", "name", "content_type"),
        [
            (
                b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
                "x.svg",
                "image/svg+xml",
            ),
            (b"<html><script>alert(1)</script></html>", "x.png", "image/png"),
            (b"GIF89a" + b"\x00" * 20, "x.gif", "image/gif"),
            (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "broken.png", "image/png"),
            (b"", "empty.png", "image/png"),
        ],
        ids=["svg", "html-claiming-png", "gif", "truncated-png", "empty"],
    )
    def test_refuses_anything_else_with_a_clear_message(
        self, editor_client, media_root, content, name, content_type
    ):
        response = upload(editor_client, content, name=name, content_type=content_type)

        assert response.status_code == 400
        message = json.loads(response.content)["image"][0]
        assert "JPEG" in message and "PNG" in message
        assert not (media_root / "markdownx").exists()

    def test_gif_is_named_as_refused(self, editor_client, media_root):
        response = upload(editor_client, image_bytes("GIF"), name="x.gif", content_type="image/gif")
        assert response.status_code == 400
        assert "not GIF" in json.loads(response.content)["image"][0]

    def test_refuses_files_over_the_size_limit(self, editor_client, media_root, settings):
        settings.MARKDOWNX_UPLOAD_MAX_SIZE = 1000
        response = upload(editor_client, image_bytes("PNG", size=(300, 300)) + b"\x00" * 2000)
        assert response.status_code == 413
        assert "too large" in json.loads(response.content)["image"][0]

    def test_missing_file_is_a_clear_error(self, editor_client, media_root):
        response = editor_client.post(UPLOAD, {})
        assert response.status_code == 400
        assert "Choose a JPEG or PNG" in json.loads(response.content)["image"][0]


@pytest.mark.django_db
class TestServingUploads:
    def test_served_as_an_image_with_nosniff(self, client, editor_client, media_root):
        code = json.loads(upload(editor_client, image_bytes("PNG")).content)["image_code"]
        url = code[len("![](") : -1]

        response = client.get(url)

        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"

    @pytest.mark.parametrize("name", ["notes.html", "x.svg", "..%2Fsettings.py", "a.png.html"])
    def test_anything_but_our_images_is_404(self, client, media_root, name):
        (media_root / "markdownx").mkdir()
        (media_root / "markdownx" / "notes.html").write_text("<script>alert(1)</script>")
        assert client.get(f"/media/markdownx/{name}").status_code == 404


def phone_photo(size=(40, 20), orientation=6):
    """A JPEG as a phone writes it: EXIF with a GPS position and a camera, rotated by a tag."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 12.0), 3: "W", 4: (0.0, 7.0, 39.0)}
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(
        buffer, format="JPEG", exif=exif, xmp=b"<x:xmpmeta>51.5N 0.12W</x:xmpmeta>", comment=b"Home"
    )
    return buffer.getvalue()


def stored(media_root, response):
    url = json.loads(response.content)["url"]
    return (media_root / "markdownx" / url.rsplit("/", 1)[1]).read_bytes()


@pytest.mark.django_db
class TestUploadsAreMadeSafe:
    def test_exif_and_gps_are_gone_from_the_stored_image(self, editor_client, media_root):
        original = phone_photo()
        assert (
            Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
        )  # the photo had a position

        data = stored(media_root, upload(editor_client, original, "IMG_0001.jpg", "image/jpeg"))

        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "JPEG"
            assert dict(image.getexif()) == {}
            assert not set(image.info) & {"exif", "xmp", "comment"}
        for trace in (b"PhoneMaker", b"Exif", b"51.5N", b"Home"):
            assert trace not in data

    def test_the_orientation_is_applied_to_the_pixels(self, editor_client, media_root):
        # Stored 40 x 20 with "rotate 90°": readers must see it 20 x 40 whatever their browser.
        response = upload(
            editor_client, phone_photo((40, 20), orientation=6), "p.jpg", "image/jpeg"
        )

        assert json.loads(response.content)["width"] == 20
        with Image.open(io.BytesIO(stored(media_root, response))) as image:
            assert image.size == (20, 40)

    def test_large_images_are_stored_at_2000_px_at_most(self, editor_client, media_root):
        response = upload(editor_client, image_bytes("PNG", size=(4000, 1000)))

        body = json.loads(response.content)
        assert (body["width"], body["height"]) == (2000, 500)
        with Image.open(io.BytesIO(stored(media_root, response))) as image:
            assert image.size == (2000, 500)

    def test_png_text_chunks_are_dropped_and_transparency_kept(self, editor_client, media_root):
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_text("Location", "51.5N 0.12W")
        buffer = io.BytesIO()
        Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(buffer, format="PNG", pnginfo=info)

        data = stored(media_root, upload(editor_client, buffer.getvalue()))

        assert b"51.5N" not in data
        with Image.open(io.BytesIO(data)) as image:
            assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0

    def test_the_answer_gives_the_address_and_size_but_no_description(
        self, editor_client, media_root
    ):
        body = json.loads(upload(editor_client, image_bytes("PNG", size=(30, 10))).content)

        assert body["url"].startswith("/media/markdownx/") and body["url"].endswith(".png")
        assert (body["width"], body["height"]) == (30, 10)
        # The editor's script asks for the description; this code is only markdownx's fallback.
        assert body["image_code"] == f"![]({body['url']})"

    def test_a_decompression_bomb_is_a_clear_error_not_a_500(self, editor_client, media_root):
        bomb = image_bytes("PNG", size=(10_000, 10_000))

        response = upload(editor_client, bomb)

        assert response.status_code == 400
        assert "too many pixels" in json.loads(response.content)["image"][0]
        assert not (media_root / "markdownx").exists()
