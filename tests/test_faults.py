"""When what the site depends on fails, a reader's comment is still saved, or cleanly refused.

- Mail server down or hanging: the comment is saved, the reader sees the
  normal confirmation within a second; the email waits in the database queue
  for the worker, whose failed attempt is logged and retried later
  (comments/notifications.py), so nothing is lost.
- Redis down while configured: pages render, comments are accepted, the flood
  check lets them through and says so in the log; readers see no error.
- Database unreachable: a styled 503 that says what is known about the
  comment: not saved (failed before the commit), perhaps saved (failed during
  it), saved (failed after it, as the session is saved).
- A client that disconnects mid-POST leaves no half-written comment.

The real-server tests run gunicorn (four workers) with its mail server hanging
and its Redis refusing connections, on the engine of the test run.
"""

import logging
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from urllib.parse import urlencode

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import OperationalError, transaction
from django.db.backends.utils import CursorWrapper
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

import comments.views
from comments.models import Comment, Notification

from .conftest import DATABASE_TASKS
from .live_server import (
    closed_port,
    database_kind_of_this_run,
    fresh_database,
    gunicorn,
    manage,
    post_comment,
    raw_post_headers,
    request,
    show_form,
)

CONFIRMATION = "Your comment is awaiting moderation."
PROMPT = 1.0  # seconds: the reader's confirmation comes within this, whatever the mail server does
EMAIL_TIMEOUT = 5  # settings.EMAIL_TIMEOUT: how long a hanging mail server can hold a send


@contextmanager
def hanging_mail_server():
    """A local port that accepts connections and never says a word (no SMTP greeting)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    held, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=2)
        for connection in held:
            connection.close()
        listener.close()


CACHE_ERROR_WORDS = ("redis", "connection refused", "error 111", "traceback")


def shows_no_cache_error(html):
    text = html.lower()
    return not [word for word in CACHE_ERROR_WORDS if word in text]


def wait_for_records(caplog, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [record for record in caplog.records if predicate(record)]
        if found:
            return found
        time.sleep(0.05)
    return []


def notification_failures(record):
    return record.name == "comments.notifications" and record.levelno >= logging.ERROR


# Mail


@pytest.fixture
def mail_server(request, settings):
    """The SMTP server the site uses: refusing connections ("down") or hanging ("slow")."""
    settings.TASKS = DATABASE_TASKS  # as in production: queued for the worker
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = EMAIL_TIMEOUT
    settings.MODERATOR_EMAILS = ["moderators@example.com"]
    if request.param == "down":
        settings.EMAIL_PORT = closed_port()
        yield request.param
    else:
        with hanging_mail_server() as port:
            settings.EMAIL_PORT = port
            yield request.param


@pytest.mark.parametrize("mail_server", ["down", "slow"], indirect=True)
@pytest.mark.django_db(transaction=True)
def test_mail_server_down_or_slow_the_comment_is_saved_and_confirmed_at_once(
    client, article, comment_form_data, mail_server, caplog
):
    caplog.set_level(logging.INFO)
    started = time.monotonic()
    response = client.post(
        reverse("comments:post", args=[article.pk]),
        comment_form_data(article, body=f"Saved although the mail server is {mail_server}."),
    )
    confirmation = client.get(response["Location"])
    elapsed = time.monotonic() - started

    assert response.status_code == 302
    assert CONFIRMATION in confirmation.content.decode()
    assert elapsed < PROMPT, f"the reader waited {elapsed:.2f} s for the mail server"
    comment = Comment.objects.get()
    assert comment.body == f"Saved although the mail server is {mail_server}."
    # The email waits in the queue; the worker's attempt fails (at once when the
    # server is down, after EMAIL_TIMEOUT when it hangs), is logged, and is kept
    # with a later attempt queued: not lost.
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    call_command("worker", "--batch", verbosity=0)
    [failure] = [r for r in caplog.records if notification_failures(r)]
    assert failure.exc_info is not None
    assert failure.event == "notification_failed"
    assert failure.comment_id == comment.pk
    notification = Notification.objects.get()
    assert notification.sent_at is None and notification.outcome == ""
    assert DBTaskResult.objects.get(status="READY").run_after == notification.next_attempt_at


# Redis


@pytest.fixture
def redis_down(settings):
    """CACHES as settings.py builds it for REDIS_URL, pointing at a port where nothing listens."""
    original = settings.CACHES
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    # The settings fixture signals the change, which closes and forgets the cache
    # connections; make sure the proxy really talks to the dead Redis now.
    assert caches["default"].__class__.__name__ == "RedisCache"
    yield
    settings.CACHES = original  # before _fresh_cache clears "the" cache on teardown


@pytest.mark.usefixtures("redis_down")
class TestRedisDown:
    def test_pages_still_render_without_a_word_about_the_cache(self, client, article, make_comment):
        make_comment(article, body="Visible while the cache is down.")
        for url in [
            "/",
            article.get_absolute_url(),
            "/search/?q=article",
            "/topics/",
            "/feed/",
            "/sitemap.xml",
        ]:
            response = Client(raise_request_exception=False).get(url)
            assert response.status_code == 200, url
            assert shows_no_cache_error(response.content.decode()), url
        assert (
            "Visible while the cache is down."
            in client.get(article.get_absolute_url()).content.decode()
        )

    def test_comments_are_accepted_and_the_flood_check_degrades_open_logged(
        self, client, article, comment_form_data, caplog, settings
    ):
        settings.COMMENTS_FLOOD_LIMIT = 1  # would refuse the second comment, if it could count
        caplog.set_level(logging.WARNING, logger="comments.policy")
        for n in range(3):
            response = client.post(
                reverse("comments:post", args=[article.pk]),
                comment_form_data(article, body=f"Comment {n} with the cache down."),
            )
            assert response.status_code == 302
        assert Comment.objects.count() == 3
        skipped = [r for r in caplog.records if "Flood check skipped" in r.getMessage()]
        assert len(skipped) == 3
        page = client.get(article.get_absolute_url()).content.decode()
        assert CONFIRMATION in page and shows_no_cache_error(page)


# Database


@pytest.mark.django_db
def test_database_unreachable_a_comment_post_gets_the_styled_503(
    article, comment_form_data, monkeypatch
):
    data = comment_form_data(article)

    def unreachable(self, sql, params=None):
        raise OperationalError('connection to server at "db" failed: Connection refused')

    monkeypatch.setattr(CursorWrapper, "execute", unreachable)
    response = Client(raise_request_exception=False).post(
        reverse("comments:post", args=[article.pk]), data
    )
    monkeypatch.undo()

    assert response.status_code == 503
    content = response.content.decode()
    assert "Temporarily unavailable" in content and "it was not saved" in content
    assert "Connection refused" not in content and "Traceback" not in content
    assert response["Retry-After"] == "30"
    assert not Comment.objects.exists()


@pytest.mark.django_db
def test_database_lost_while_saving_the_comment_saves_nothing_and_says_so(
    article, comment_form_data, monkeypatch
):
    data = comment_form_data(article)
    execute = CursorWrapper.execute

    def fails_on_write(self, sql, params=None):
        if sql.lstrip().upper().startswith("INSERT"):
            raise OperationalError("server closed the connection unexpectedly")
        return execute(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", fails_on_write)
    response = Client(raise_request_exception=False).post(
        reverse("comments:post", args=[article.pk]), data
    )
    monkeypatch.undo()

    assert response.status_code == 503
    assert "it was not saved" in response.content.decode()
    assert not Comment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_database_lost_after_the_commit_tells_the_reader_the_comment_was_saved(
    article, comment_form_data, monkeypatch
):
    """The reported case: the session save after the commit met a dead connection."""

    def unreachable(self, sql, params=None):
        raise OperationalError("server closed the connection unexpectedly")

    posted = comments.views.comment_posted

    def posted_then_the_database_dies(comment, ip_address):
        posted(comment, ip_address)
        # Runs as the comment commits, after the outbox's own callbacks.
        transaction.on_commit(lambda: monkeypatch.setattr(CursorWrapper, "execute", unreachable))

    monkeypatch.setattr("comments.views.comment_posted", posted_then_the_database_dies)
    response = Client(raise_request_exception=False).post(
        reverse("comments:post", args=[article.pk]), comment_form_data(article)
    )
    monkeypatch.undo()

    assert response.status_code == 503
    content = response.content.decode()
    assert "Your comment was saved" in content and "do not send it again" in content
    assert "not saved" not in content
    assert Comment.objects.get().body == comment_form_data(article)["body"]


@pytest.mark.django_db
def test_database_lost_during_the_commit_says_the_comment_may_have_been_saved(
    article, comment_form_data, monkeypatch
):
    execute = CursorWrapper.execute

    def fails_on_commit(self, sql, params=None):
        # The test runs in a transaction, so the view's commit is a savepoint's release.
        if sql.lstrip().upper().startswith("RELEASE SAVEPOINT"):
            raise OperationalError("server closed the connection unexpectedly")
        return execute(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", fails_on_commit)
    response = Client(raise_request_exception=False).post(
        reverse("comments:post", args=[article.pk]), comment_form_data(article)
    )
    monkeypatch.undo()

    assert response.status_code == 503
    content = response.content.decode()
    assert "Your comment may have been saved" in content
    assert "not saved" not in content


# The real server, with its mail server hanging and its Redis refusing connections


@pytest.fixture(scope="module")
def degraded_server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("degraded")
    with (
        hanging_mail_server() as mail_port,
        fresh_database(database_kind_of_this_run(), tmp_path) as url,
        gunicorn(
            url,
            tmp_path / "server",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(mail_port),
            REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0",
        ) as server,
    ):
        yield server


@pytest.mark.slow
def test_real_server_confirms_within_a_second_while_mail_hangs_and_redis_is_down(degraded_server):
    server, run = degraded_server, uuid.uuid4().hex[:8]
    form = show_form(server, client_ip="10.20.0.1")
    body = f"Degraded {run}: saved while the mail server hangs."
    response = post_comment(server, form, body=body, name="Ada", email=f"ada.{run}@example.com")
    assert response.status == 302
    cookies = {**form.cookies, **response.cookies()}
    page = request(
        server, "GET", response.header("Location"), client_ip=form.client_ip, cookies=cookies
    )
    waited = page.finished - response.started
    print(f"\nPOST and confirmation page with mail hanging and Redis down: {waited * 1000:.0f} ms")
    assert page.status == 200 and CONFIRMATION in page.text
    assert waited < PROMPT, f"the reader waited {waited:.2f} s"
    assert server.comment_bodies(f"Degraded {run}:") == [body]

    # The moderators' email waits in the database queue; the worker's attempt
    # against the hanging mail server fails after EMAIL_TIMEOUT, is logged, and
    # a later attempt is queued.
    worker = manage(server.env, "worker", "--batch", timeout=EMAIL_TIMEOUT + 60)
    assert '"event": "notification_failed"' in worker.stdout + worker.stderr
    state = server.shell_json(
        "import json; from comments.models import Notification; "
        "from django_tasks_db.models import DBTaskResult; "
        f"n = Notification.objects.get(comment__body__startswith={f'Degraded {run}:'!r}); "
        "print(json.dumps([n.attempts, n.sent_at is None, n.outcome, "
        "DBTaskResult.objects.filter(status='READY', args_kwargs__args=[n.pk]).count()]))"
    )
    assert state == [1, True, "", 1]
    assert server.wait_for_log(lambda r: "Flood check skipped" in r.get("message", ""), timeout=2)
    assert shows_no_cache_error(response.text) and shows_no_cache_error(page.text)


def _multipart(fields, boundary="----interrupted"):
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields
    ]
    return "".join(parts).encode() + f"--{boundary}--\r\n".encode(), boundary


def _fields_ending_with_the_body(form, run, label):
    """The form's fields with the comment text last, where a cut keeps every other field valid."""
    fields = dict(form.fields(body="", name="Cut", email=f"cut.{label}.{run}@example.com"))
    body = f"Interrupted {run} {label}: " + "the rest of this sentence never arrives " * 20
    return [*((k, v) for k, v in fields.items() if k != "body"), ("body", body)], body


def _incomplete_requests(server):
    return len([r for r in server.log_records() if r.get("event") == "request_incomplete"])


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_a_client_disconnecting_mid_post_leaves_no_half_written_comment(degraded_server, encoding):
    server, run = degraded_server, uuid.uuid4().hex[:8]
    incomplete_before = _incomplete_requests(server)
    forms = {
        label: show_form(server, client_ip=f"10.21.{n}.1")
        for n, label in enumerate(["closed", "half-closed", "complete"])
    }
    for label, form in forms.items():
        fields, _ = _fields_ending_with_the_body(form, run, label)
        if encoding == "multipart":
            payload, boundary = _multipart(fields)
            content_type = f"multipart/form-data; boundary={boundary}"
        else:
            payload, content_type = urlencode(fields).encode(), "application/x-www-form-urlencoded"
        head = raw_post_headers(server, form, len(payload)).replace(
            b"application/x-www-form-urlencoded", content_type.encode()
        )
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
            if label == "complete":
                connection.sendall(head + payload)
                assert connection.recv(64).startswith(b"HTTP/1.1 302"), (
                    "the complete POST is accepted"
                )
                continue
            # Everything but the last 300 bytes: every field arrives, the comment text only in part.
            connection.sendall(head + payload[:-300])
            time.sleep(0.2)  # let the worker start reading the body
            if label == "half-closed":
                connection.shutdown(socket.SHUT_WR)  # a reply could still come back...
                connection.recv(4096)  # ...and whatever it is, the comment must not be stored
    # Each worker notices the missing bytes as soon as the connection is gone, and says so.
    deadline = time.monotonic() + 5
    while _incomplete_requests(server) < incomplete_before + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    stored = server.comment_bodies(f"Interrupted {run} ")
    assert [body.split(":")[0] for body in stored] == [f"Interrupted {run} complete"]
    assert _incomplete_requests(server) == incomplete_before + 2


@pytest.mark.slow
def test_a_body_over_the_limit_is_refused_before_it_is_sent(degraded_server):
    """413 from the headers alone: the server does not wait for (or store) 50 MB."""
    server = degraded_server
    form = show_form(server, client_ip="10.22.0.1")
    head = raw_post_headers(server, form, 50 * 1024 * 1024)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(head + b"body=")
        reply = _read_reply(connection)
    assert reply.startswith("HTTP/1.1 413"), reply[:200]
    assert "Too much to send at once" in reply


def _read_reply(connection):
    """Everything the server sends before it closes the connection."""
    chunks = []
    try:
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass  # it closed with our unsent body unread: what it sent first is still here
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
@pytest.mark.parametrize(
    "head",
    [
        "GET /search/?q=" + "a" * 5000 + " HTTP/1.1\r\n",  # --limit-request-line 4094
        "GET / HTTP/1.1\r\n" + "".join(f"X-Filler-{n}: x\r\n" for n in range(150)),  # 100 fields
        "GET / HTTP/1.1\r\nX-Huge: " + "x" * 10000 + "\r\n",  # --limit-request-field_size 8190
    ],
    ids=["request-line", "header-count", "header-size"],
)
def test_gunicorn_refuses_oversized_request_heads_with_a_4xx(degraded_server, head):
    with socket.create_connection(("127.0.0.1", degraded_server.port), timeout=10) as connection:
        connection.sendall(f"{head}Host: 127.0.0.1\r\n\r\n".encode())
        reply = _read_reply(connection)
    status = int(reply.split(" ", 2)[1])
    assert 400 <= status < 500, reply[:200]
