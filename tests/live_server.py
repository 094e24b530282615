"""The real server for load and fault tests: gunicorn on a fresh database, and a reader's HTTP.

Everything talks to 127.0.0.1 only. A server runs as in production (debug
off, behind a TLS-terminating proxy): requests say `X-Forwarded-Proto: https`
and name their client in `X-Forwarded-For`, which DJANGO_TRUSTED_PROXIES=1
trusts, so that each simulated reader has an address of its own.
"""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from .nginx_front import free_port

ROOT = Path(__file__).resolve().parent.parent
GUIDE_PATH = "/articles/isotretinoin-journey-20-mg-40-mg-and-beyond/"
SECRET_KEY = "live-server-test-key-" + "0123456789abcdefghijklmnopqrstuvwxyz" * 2
POSTGRES_DEFAULT = "postgres://postgres@127.0.0.1:5432/postgres"


def closed_port():
    """A local port with nothing listening on it (connections are refused)."""
    return free_port()


def server_env(database_url, port, **extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "EMAIL_", "MODERATOR_"))
    }
    env.update(
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url,
        SITE_URL=f"http://127.0.0.1:{port}",
        DJANGO_TRUSTED_PROXIES="1",
        MODERATOR_EMAILS="moderators@example.com",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def manage(env, *args, timeout=120, **kwargs):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}"
    return result


def shell_json(env, code):
    """Run `code` in `manage.py shell`; its last line of output, parsed as JSON."""
    return json.loads(manage(env, "shell", "-c", code).stdout.strip().splitlines()[-1])


def collect_static(env):
    """Production serves hashed, compressed static files: collect them once per test run."""
    if not getattr(collect_static, "done", False):
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        collect_static.done = True


# Databases


def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'live.sqlite3'}"


def postgres_admin_url():
    """The PostgreSQL server the tests may use: DATABASE_URL's if it names one, else the local one."""
    configured = os.environ.get("DATABASE_URL", "")
    if configured.startswith(("postgres://", "postgresql://")):
        return configured
    return POSTGRES_DEFAULT


def require_postgres():
    """Skip (or, with CI set, fail) clearly when no PostgreSQL answers at the configured address."""
    parts = urlsplit(postgres_admin_url())
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install -e '.[dev]')")
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as error:
        _unavailable(f"PostgreSQL is not reachable at {host}:{port} ({error})")


def _unavailable(reason):
    message = f"PostgreSQL load test not run: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set, so this is a failure: .ci/run starts PostgreSQL)")
    pytest.skip(message)


@contextmanager
def fresh_postgres_database(prefix="hardening_live"):
    """A new, empty database on the PostgreSQL server, dropped afterwards; yields its URL."""
    import psycopg

    require_postgres()
    admin = urlsplit(postgres_admin_url())
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    maintenance = admin._replace(path="/postgres").geturl()
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(maintenance, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(kind, tmp_path):
    if kind == "postgresql":
        with fresh_postgres_database() as url:
            yield url
    else:
        yield sqlite_url(tmp_path)


def database_kind_of_this_run():
    """The engine the suite runs on: PostgreSQL when DATABASE_URL names it, else SQLite."""
    return "postgresql" if postgres_admin_url() == os.environ.get("DATABASE_URL") else "sqlite"


# The server


@dataclass
class LiveServer:
    process: subprocess.Popen
    port: int
    env: dict
    log_dir: Path
    article_id: int = 0
    article_path: str = GUIDE_PATH

    @property
    def host(self):
        return f"127.0.0.1:{self.port}"

    def stderr(self):
        return (self.log_dir / "gunicorn.stderr").read_text(errors="replace")

    def stdout(self):
        return (self.log_dir / "gunicorn.stdout").read_text(errors="replace")

    def log_records(self):
        """The server's JSON log lines, parsed (other lines are skipped)."""
        records = []
        for line in self.stderr().splitlines():
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except ValueError:
                    pass
        return records

    def wait_for_log(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [record for record in self.log_records() if predicate(record)]
            if found:
                return found
            time.sleep(0.1)
        return []

    def shell_json(self, code):
        return shell_json(self.env, code)

    def comment_bodies(self, prefix):
        """Every stored comment body starting with `prefix` (repeats included)."""
        return self.shell_json(
            "import json; from comments.models import Comment; print(json.dumps(list("
            f"Comment.objects.filter(body__startswith={prefix!r}).values_list('body', flat=True))))"
        )


@contextmanager
def gunicorn(database_url, tmp_path, workers=4, **extra_env):
    """Migrate a fresh database, load the guide, and serve it with gunicorn; yields a LiveServer."""
    port = free_port()
    env = server_env(database_url, port, **extra_env)
    manage(env, "migrate", "--noinput")
    manage(env, "load_guide")
    collect_static(env)
    article_id = shell_json(
        env,
        "from articles.models import Article; "
        f"print(Article.objects.get(slug={GUIDE_PATH.split('/')[2]!r}).pk)",
    )
    log_dir = Path(tmp_path)
    log_dir.mkdir(parents=True, exist_ok=True)
    with (
        open(log_dir / "gunicorn.stdout", "wb") as stdout,
        open(log_dir / "gunicorn.stderr", "wb") as stderr,
    ):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "site_project.wsgi",
                "-w",
                str(workers),
                "--threads",
                "1",
                "-b",
                f"127.0.0.1:{port}",
                "--graceful-timeout",
                "5",
            ],
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    server = LiveServer(process, port, env, log_dir, article_id=article_id)
    try:
        _wait_until_serving(server, workers)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_until_serving(server, workers, timeout=45):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"gunicorn exited with {server.process.returncode}:\n{server.stderr()[-3000:]}"
            )
        try:
            if request(server, "GET", "/healthz").status == 200:
                # Every worker has booted once each has said so; until then requests queue.
                booted = server.stderr().count("Booting worker")
                if booted >= workers:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not start in {timeout} s:\n{server.stderr()[-3000:]}")


# A reader's HTTP


@dataclass
class Response:
    status: int
    headers: list
    body: bytes
    started: float
    finished: float

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def header(self, name):
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def cookies(self):
        jar = {}
        for key, value in self.headers:
            if key.lower() == "set-cookie":
                for morsel in SimpleCookie(value).values():
                    jar[morsel.key] = morsel.value
        return jar


def request(
    server,
    method,
    path,
    *,
    client_ip="127.0.0.1",
    cookies=None,
    body=None,
    headers=None,
    timeout=30,
):
    """One request on its own connection, as a browser behind our proxy would make it."""
    all_headers = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": client_ip,
        "User-Agent": "live-server-test",
        "Connection": "close",
    }
    if cookies:
        all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        all_headers["Origin"] = f"https://{server.host}"
        all_headers["Referer"] = f"https://{server.host}{server.article_path}"
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    all_headers.update(headers or {})
    started = time.time()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        return Response(response.status, response.getheaders(), data, started, time.time())
    finally:
        connection.close()


@dataclass
class CommentForm:
    """What a reader's browser holds after showing the article: cookies and the form's address."""

    cookies: dict
    action: str
    client_ip: str

    def fields(self, body, name, email, website=""):
        return [
            ("body", body),
            ("name", name),
            ("email", email),
            ("website", website),
            ("honeypot", ""),
        ]


def comment_form_action(html):
    """Where the article page's comment form posts to (a browser never sends the #fragment)."""
    return re.search(
        r'<form method="post" action="([^"#]+)[^"]*" class="comment-form"', html
    ).group(1)


def show_form(server, client_ip):
    response = request(server, "GET", server.article_path, client_ip=client_ip)
    assert response.status == 200, (
        f"GET {server.article_path}: {response.status}\n{response.text[:500]}"
    )
    return CommentForm(
        cookies=response.cookies(),
        action=comment_form_action(response.text),
        client_ip=client_ip,
    )


def post_comment(server, form, **fields):
    body = urlencode(form.fields(**fields)).encode()
    return request(
        server, "POST", form.action, client_ip=form.client_ip, cookies=form.cookies, body=body
    )


def raw_post_headers(server, form, content_length):
    """The head of a comment POST, for tests that then send (part of) the body by hand."""
    cookie = "; ".join(f"{k}={v}" for k, v in form.cookies.items())
    return (
        f"POST {form.action} HTTP/1.1\r\n"
        f"Host: {server.host}\r\n"
        "X-Forwarded-Proto: https\r\n"
        f"X-Forwarded-For: {form.client_ip}\r\n"
        f"Origin: https://{server.host}\r\n"
        f"Cookie: {cookie}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {content_length}\r\n"
        "\r\n"
    ).encode()
