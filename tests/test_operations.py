"""Health checks, the database-down page, security headers, login throttling, backups."""

from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.test import Client, RequestFactory
from django.urls import reverse

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
    """Failures count per (username, address), and per address with a looser limit."""

    PASSWORD = "a-long-test-password"  # the staff fixtures' password

    def login(self, username, password="wrong-password", ip="203.0.113.9"):
        # A fresh client each time, as an attacker's script would be.
        return Client().post(
            "/admin/login/?next=/admin/",
            {"username": username, "password": password},
            REMOTE_ADDR=ip,
        )

    def test_repeated_failures_lock_the_pair_out_and_are_logged(self, editor, caplog):
        for _ in range(4):
            assert self.login("editor").status_code == 200
        assert self.login("editor").status_code == 429  # the fifth failure locks
        response = self.login("editor", password=self.PASSWORD)
        assert response.status_code == 429
        assert b"Too many failed log-ins" in response.content
        assert any("locked out" in record.getMessage().lower() for record in caplog.records)

    def test_a_correct_password_before_the_limit_logs_in(self, editor):
        for _ in range(2):
            self.login("editor")
        assert self.login("editor", password=self.PASSWORD).status_code == 302

    def test_logging_into_ones_own_account_does_not_reset_guesses_at_another(
        self, editor, moderator
    ):
        """The bypass: 4 guesses at the moderator, one good log-in as the editor, again and again."""
        guesses_let_through = 0
        # Three rounds: 12 failures, under the address's own limit.
        for _ in range(3):
            for _ in range(4):
                if self.login("moderator").status_code == 200:
                    guesses_let_through += 1
            assert self.login("editor", password=self.PASSWORD).status_code == 302
        assert guesses_let_through == settings.AXES_FAILURE_LIMIT - 1
        assert self.login("moderator", password=self.PASSWORD).status_code == 429

    def test_an_outsider_cannot_lock_a_moderator_out_of_their_own_address(self, moderator):
        for n in range(3 * settings.AXES_FAILURE_LIMIT):
            self.login("moderator", ip=f"198.51.100.{n % 3}")
        assert self.login("moderator", password=self.PASSWORD, ip="192.0.2.1").status_code == 302
        # The outsider's own addresses stay locked for that username.
        assert self.login("moderator", password=self.PASSWORD, ip="198.51.100.0").status_code == 429

    def test_one_address_trying_many_usernames_is_locked_at_the_looser_limit(self, editor):
        limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
        per_name = settings.AXES_FAILURE_LIMIT - 1  # never enough to lock one pair
        statuses = [
            self.login(f"user{n // per_name}", ip="203.0.113.50").status_code for n in range(limit)
        ]
        assert statuses[:-1] == [200] * (limit - 1)
        assert statuses[-1] == 429  # the address's limit-th failure locks it
        # ...for every username, the right password included; other addresses are unaffected.
        assert self.login("editor", password=self.PASSWORD, ip="203.0.113.50").status_code == 429
        assert self.login("editor", password=self.PASSWORD, ip="203.0.113.51").status_code == 302

    def test_a_good_log_in_clears_its_own_failures(self, editor):
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            self.login("editor")
        assert self.login("editor", password=self.PASSWORD).status_code == 302
        # Counting starts again: four more mistakes are still allowed.
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert self.login("editor").status_code == 200


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
    def test_forwarded_for_is_trusted_only_as_far_as_configured(
        self, settings, proxies, forwarded, expected
    ):
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


@pytest.mark.django_db
class TestAddStaff:
    """python manage.py add_staff NAME --role editor|moderator [--email ...] [--no-password]"""

    @pytest.fixture
    def typed(self, monkeypatch):
        """The passwords typed at the prompts, in order, on a terminal."""
        answers = []
        monkeypatch.setattr("getpass.getpass", lambda prompt="": answers.pop(0))
        monkeypatch.setattr("sys.stdin.isatty", lambda: True)
        return answers

    def test_an_editor_is_created_in_the_editors_group_and_can_work(self, typed, client):
        typed += ["plum-orchard-lantern", "plum-orchard-lantern"]
        out = StringIO()
        call_command(
            "add_staff", "alice", "--role", "editor", "--email", "alice@example.org", stdout=out
        )

        alice = User.objects.get(username="alice")
        assert alice.is_staff and not alice.is_superuser
        assert alice.email == "alice@example.org"
        assert list(alice.groups.values_list("name", flat=True)) == ["Editors"]
        assert "Created editor 'alice'" in out.getvalue()
        login = {"username": "alice", "password": "plum-orchard-lantern"}
        assert client.post("/admin/login/?next=/admin/", login).status_code == 302
        assert client.get(reverse("admin:articles_article_changelist")).status_code == 200

    def test_a_moderator_for_scripts_has_no_password_until_one_is_set(self):
        out = StringIO()
        call_command("add_staff", "bob", "--role", "moderator", "--no-password", stdout=out)
        bob = User.objects.get(username="bob")
        assert list(bob.groups.values_list("name", flat=True)) == ["Moderators"]
        assert bob.is_staff and not bob.has_usable_password()
        assert "changepassword bob" in out.getvalue()

    def test_a_medical_reviewer_is_a_person_readers_see_linked_to_the_account(self, client):
        out = StringIO()
        call_command(
            "add_staff", "rae", "--role", "reviewer", "--email", "rae@example.org",
            "--name", "Dr Rae Reviewer", "--credentials", "MD, FAAD", "--no-password", stdout=out,
        )  # fmt: skip
        rae = User.objects.get(username="rae")
        assert list(rae.groups.values_list("name", flat=True)) == ["Medical reviewers"]
        assert rae.person.name == "Dr Rae Reviewer" and rae.person.credentials == "MD, FAAD"
        assert rae.has_perm("articles.record_review") and not rae.has_perm(
            "articles.change_article"
        )
        assert "/people/dr-rae-reviewer/" in out.getvalue()
        assert client.get("/people/dr-rae-reviewer/").status_code == 200

    def test_a_reviewer_needs_a_name(self):
        with pytest.raises(CommandError, match="--name"):
            call_command("add_staff", "rae", "--role", "reviewer", "--no-password")
        assert not User.objects.filter(username="rae").exists()

    @pytest.mark.parametrize(
        ("arguments", "message"),
        [
            (["carol", "--role", "admin"], "invalid choice: 'admin'"),
            (
                ["carol", "--role", "editor", "--email", "not-an-address", "--no-password"],
                "valid email",
            ),
            (["existing", "--role", "editor", "--no-password"], "exists already"),
        ],
    )
    def test_clear_errors(self, arguments, message):
        User.objects.create_user("existing")
        with pytest.raises(CommandError, match=message):
            call_command("add_staff", *arguments)
        assert not User.objects.filter(username="carol").exists()

    def test_passwords_that_differ_or_are_weak_create_nothing(self, typed):
        typed += ["one-long-password", "another-long-password"]  # differ
        typed += ["password", "password", "1234", "1234"]  # too common, too short
        err = StringIO()
        with pytest.raises(CommandError, match="nothing was created"):
            call_command("add_staff", "dave", "--role", "editor", stderr=err)
        assert "differ" in err.getvalue() and "too common" in err.getvalue()
        assert not User.objects.filter(username="dave").exists()

    def test_without_a_terminal_it_asks_for_no_password(self, monkeypatch):
        monkeypatch.setattr("sys.stdin.isatty", lambda: False)
        with pytest.raises(CommandError, match="--no-password"):
            call_command("add_staff", "erin", "--role", "moderator")
