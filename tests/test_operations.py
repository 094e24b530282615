"""Health checks, the database-down page, security headers, login throttling, backups."""

import pytest
from django.db import OperationalError
from django.test import Client, RequestFactory

from articles.models import Article
from site_project.client_ip import client_ip

from .test_project import _manage as manage
from .test_project import production_env


@pytest.mark.django_db
def test_health_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_liveness_touches_no_database(client):
    # No django_db mark: pytest-django raises on any database access here.
    assert client.get("/healthz/live").status_code == 200


@pytest.mark.django_db
def test_health_reports_a_database_failure_as_503(client, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    def refuse(self, sql, params=None):
        raise OperationalError("connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503


@pytest.mark.django_db
def test_an_unreachable_database_gives_readers_a_styled_503(monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError('connection to server at "db" failed: Connection refused')

    monkeypatch.setattr(Article.objects, "listed", unreachable)
    response = Client(raise_request_exception=False).get("/")

    assert response.status_code == 503
    content = response.content.decode()
    assert "Temporarily unavailable" in content
    assert "Connection refused" not in content and "Traceback" not in content
    assert response["Retry-After"] == "30"


@pytest.mark.django_db
class TestSecurityHeaders:
    def test_public_pages_forbid_inline_script_and_style(self, client, article):
        response = client.get(article.get_absolute_url())
        policy = response["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe-inline" not in policy
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert response["X-Frame-Options"] == "DENY"

    def test_the_admin_keeps_scripts_strict(self, editor_client):
        policy = editor_client.get("/admin/")["Content-Security-Policy"]
        assert "script-src 'self';" in policy + ";"
        assert "'unsafe-inline'" in policy.split("style-src", 1)[1].split(";")[0]

    def test_https_requests_get_hsts(self, client, settings):
        response = client.get("/healthz/live", secure=True)
        assert response["Strict-Transport-Security"].startswith("max-age=31536000")

    def test_plain_http_is_redirected_to_https(self, client, settings):
        settings.SECURE_SSL_REDIRECT = True
        response = client.get("/", HTTP_X_FORWARDED_PROTO="http")
        assert response.status_code == 301
        assert response["Location"].startswith("https://")
        # ...except the load balancer's health check.
        assert client.get("/healthz/live").status_code == 200


@pytest.mark.django_db
class TestLoginThrottling:
    def login(self, client, username, password="wrong-password", ip="203.0.113.9"):
        return client.post(
            "/admin/login/?next=/admin/",
            {"username": username, "password": password},
            REMOTE_ADDR=ip,
        )

    def test_repeated_failures_lock_the_address_out_and_are_logged(self, client, editor, caplog):
        for _ in range(4):
            assert self.login(client, "editor").status_code == 200
        assert self.login(client, "editor").status_code == 429  # the fifth failure locks
        response = self.login(client, "editor", password="a-long-test-password")
        assert response.status_code == 429
        assert b"Too many failed log-ins" in response.content
        assert any("locked out" in record.getMessage().lower() for record in caplog.records)

    def test_failures_for_one_username_from_many_addresses_lock_it(self, client, editor):
        for n in range(5):
            self.login(client, "editor", ip=f"198.51.100.{n}")
        response = self.login(client, "editor", password="a-long-test-password", ip="192.0.2.1")
        assert response.status_code == 429

    def test_a_correct_password_before_the_limit_logs_in(self, client, editor):
        for _ in range(2):
            self.login(client, "editor")
        response = self.login(client, "editor", password="a-long-test-password")
        assert response.status_code == 302


class TestClientAddress:
    @pytest.mark.parametrize(
        ("proxies", "forwarded", "expected"),
        [
            (0, "1.1.1.1", "10.0.0.1"),  # nobody trusted: the socket
            (1, "6.6.6.6, 2.2.2.2", "2.2.2.2"),  # our proxy appended the client
            (2, "6.6.6.6, 3.3.3.3, 2.2.2.2", "3.3.3.3"),
            (2, "2.2.2.2", "10.0.0.1"),  # fewer entries than proxies: not trusted
        ],
    )
    def test_forwarded_for_is_trusted_only_as_far_as_configured(self, settings, proxies, forwarded, expected):
        settings.TRUSTED_PROXIES = proxies
        request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
        assert client_ip(request) == expected


class TestBackupAndRestore:
    """Run as the operator would, against a real SQLite file."""

    def run(self, tmp_path, *args):
        return manage(*args, env=production_env(tmp_path))

    def titles(self, tmp_path):
        probe = "from articles.models import Article; print(sorted(Article.objects.values_list('slug', flat=True)))"
        return self.run(tmp_path, "shell", "-c", probe).stdout.strip().splitlines()[-1]

    def test_backup_then_restore_brings_back_the_data(self, tmp_path):
        assert self.run(tmp_path, "migrate", "--noinput").returncode == 0
        assert self.run(tmp_path, "load_guide").returncode == 0
        before = self.titles(tmp_path)
        target = tmp_path / "backups" / "blog.sqlite3"

        backup = self.run(tmp_path, "backup_db", str(target))
        assert backup.returncode == 0, backup.stderr
        assert "Backed up the database" in backup.stdout

        wipe = "from articles.models import Article; Article.objects.all().delete()"
        self.run(tmp_path, "shell", "-c", wipe)
        assert self.titles(tmp_path) == "[]"

        restore = self.run(tmp_path, "restore_db", str(target), "--yes")
        assert restore.returncode == 0, restore.stderr
        assert self.titles(tmp_path) == before
        assert "isotretinoin-journey-20-mg-40-mg-and-beyond" in before

    def test_backup_refuses_to_overwrite_a_file(self, tmp_path):
        existing = tmp_path / "exists.sqlite3"
        existing.write_bytes(b"")
        result = self.run(tmp_path, "backup_db", str(existing))
        assert result.returncode != 0
        assert "exists already" in result.stderr

    def test_restore_refuses_a_damaged_file_and_asks_for_confirmation(self, tmp_path):
        assert self.run(tmp_path, "migrate", "--noinput").returncode == 0
        junk = tmp_path / "junk.sqlite3"
        junk.write_bytes(b"not a database at all" * 100)
        unconfirmed = self.run(tmp_path, "restore_db", str(junk))
        assert unconfirmed.returncode != 0 and "--yes" in unconfirmed.stderr
        damaged = self.run(tmp_path, "restore_db", str(junk), "--yes")
        assert damaged.returncode != 0
        assert "not a readable SQLite database" in damaged.stderr


def test_logs_are_json_lines_with_their_fields(capsys):
    import json
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    logging.getLogger("comments.moderation").warning(
        "comments approved", extra={"event": "moderation", "count": 3}
    )
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["message"] == "comments approved"
    assert record["event"] == "moderation" and record["count"] == 3
    assert record["level"] == "WARNING" and record["logger"] == "comments.moderation"
