"""Collected static files: hashed names cached for a year, compressed, named by every page."""

import gzip
import re

import pytest
from django.core.management import call_command
from django.test import Client


@pytest.fixture
def collected(settings, tmp_path):
    """collectstatic as the README's production steps run it, into a fresh folder."""
    settings.STATIC_ROOT = tmp_path / "staticfiles"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "site_project.static_storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = False
    call_command("collectstatic", "--noinput", verbosity=0)
    return settings.STATIC_ROOT


def test_collectstatic_writes_the_manifest_and_compressed_copies(collected):
    assert (collected / "staticfiles.json").exists()
    hashed = [p.name for p in (collected / "css").glob("site.*.css")]
    assert hashed, "site.css is collected under a hashed name"
    assert (collected / "css" / f"{hashed[0]}.gz").exists()


def test_pages_name_hashed_files_served_for_a_year_and_compressed(collected, article):
    html = Client().get(article.get_absolute_url()).content.decode()
    [url] = re.findall(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', html)
    response = Client().get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    cache_control = response["Cache-Control"]
    assert "immutable" in cache_control
    assert int(re.search(r"max-age=(\d+)", cache_control).group(1)) >= 365 * 24 * 3600
    body = gzip.decompress(b"".join(response.streaming_content))
    assert b"body" in body


def test_before_collectstatic_pages_name_plain_files_that_are_served(settings, tmp_path, article):
    """A fresh checkout (and this test suite) works before anything is collected."""
    settings.STATIC_ROOT = tmp_path / "empty"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "site_project.static_storage.StaticFilesStorage"},
    }
    html = Client().get(article.get_absolute_url()).content.decode()
    assert 'href="/static/css/site.css"' in html
    assert Client().get("/static/css/site.css").status_code == 200
