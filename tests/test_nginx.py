"""The site through nginx as shipped (deploy/nginx.conf): what readers, commenters and operators get.

Debian's nginx runs the production template (tests/nginx_front.py: free
ports, a self-signed certificate, a temporary cache) over HTTPS in front of
a real gunicorn with three sync workers on a fresh SQLite database, once for
the module. Through it:

- a public page is the same bytes for every reader without a session, marked
  public, compressed when asked; a repeat visit gets a 304; a second request
  is answered from nginx's cache;
- a visitor with a session or a message is never served from the cache nor
  stored in it: a commenter sees their pending comment and message, nobody
  else does; a cross-site POST is refused;
- a comment approved by another process shows within 2 seconds;
- static files and uploaded images come from nginx itself, with the right
  caching and headers; Django knows the request was HTTPS; a body over the
  app's limit is refused before it reaches gunicorn;
- clients that never finish their request do not hold gunicorn's workers.

Without nginx installed the module is skipped, saying so; with CI set that is
a failure (.ci/run installs nginx). nginx does not depend on the database
engine, so the module runs in the SQLite pass of the suite only.
"""

import gzip
import os
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings

from .freshness import approval_delay
from .live_server import (
    GUIDE_PATH,
    CommentForm,
    LiveServer,
    Response,
    comment_form_action,
    database_kind_of_this_run,
    gunicorn,
    sqlite_url,
)
from .nginx_front import HOST, Nginx, NginxUnavailable, free_port, nginx_in_front, require_nginx

pytestmark = pytest.mark.slow

# As many stalled clients as gunicorn has workers: were nginx to pass them
# on before they finish, they would hold every worker.
WORKERS = 3
PROMISED_DELAY = 2.0  # seconds within which an approved comment shows (DESIGN.md)
PROMPT = 2.0  # seconds: a reader's page, however many clients stall
CROWD = 8  # readers asking for one page at once
CONFIRMATION = "Your comment is awaiting moderation."
SHARED_PAGES = [
    "/",
    GUIDE_PATH,
    f"{GUIDE_PATH}?cpage=1",
    "/topics/",
    "/search/?q=isotretinoin",
    "/feed/",
    "/feed/atom/",
    "/sitemap.xml",
    "/robots.txt",
]
COMPRESSED_PAGES = ["/", GUIDE_PATH, "/feed/", "/feed/atom/", "/sitemap.xml"]


@dataclass
class Site:
    app: LiveServer
    nginx: Nginx
    media_root: Path


def _unavailable(reason):
    message = f"nginx tests not run: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set, so this is a failure: .ci/run installs nginx)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if database_kind_of_this_run() == "postgresql":
        pytest.skip("nginx in front does not depend on the database: run in the SQLite pass only")
    try:
        require_nginx()
    except NginxUnavailable as error:
        _unavailable(str(error))
    folder = tmp_path_factory.mktemp("nginx-front")
    https_port = free_port()
    with (
        gunicorn(
            sqlite_url(folder),
            folder / "gunicorn",
            workers=WORKERS,
            SITE_URL=f"https://{HOST}:{https_port}",
        ) as app,
        nginx_in_front(
            f"{HOST}:{app.port}",
            folder / "nginx",
            https_port=https_port,
            media_root=folder / "media",
            workers=2,
        ) as nginx,
    ):
        yield Site(app, nginx, folder / "media")
        assert "[emerg]" not in nginx.error_log() and "[alert]" not in nginx.error_log()


def browse(site, method, path, *, headers=None, cookies=None, body=None):
    """One request to nginx over HTTPS, as a browser sends it: no X-Forwarded-* of its own."""
    all_headers = {"User-Agent": "nginx-test reader", **(headers or {})}
    if cookies:
        all_headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    started = time.time()
    connection = site.nginx.connection()
    try:
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        return Response(response.status, response.getheaders(), data, started, time.time())
    finally:
        connection.close()


def header_values(response, name):
    return [value for key, value in response.headers if key.lower() == name.lower()]


def unique(path):
    """`path` under an address nobody asked for yet, so nothing is cached for it."""
    return f"{path}{'&' if '?' in path else '?'}probe={uuid.uuid4().hex[:12]}"


# Public pages


@pytest.mark.parametrize("path", SHARED_PAGES)
def test_a_public_page_is_the_same_bytes_for_every_reader_without_a_session(site, path):
    first = browse(site, "GET", path, headers={"User-Agent": "reader one", "Accept-Language": "en"})
    second = browse(
        site, "GET", path, headers={"User-Agent": "reader two", "Accept-Language": "fr"}
    )

    assert first.status == second.status == 200
    assert first.body == second.body
    for response in (first, second):
        cache_control = response.header("Cache-Control")
        assert "public" in cache_control and "s-maxage" in cache_control
        assert response.header("ETag")
        assert response.header("Set-Cookie") is None
        assert not any("cookie" in vary.lower() for vary in header_values(response, "Vary"))


@pytest.mark.parametrize("path", COMPRESSED_PAGES)
def test_pages_and_feeds_are_compressed_for_readers_who_accept_it(site, path):
    plain = browse(site, "GET", path)
    compressed = browse(site, "GET", path, headers={"Accept-Encoding": "gzip"})

    assert compressed.header("Content-Encoding") == "gzip"
    assert plain.header("Content-Encoding") is None
    assert gzip.decompress(compressed.body) == plain.body
    assert len(compressed.body) < len(plain.body) * 0.6  # a one-item feed compresses least


def test_a_repeat_visit_gets_not_modified(site):
    first = browse(site, "GET", GUIDE_PATH)
    again = browse(site, "GET", GUIDE_PATH, headers={"If-None-Match": first.header("ETag")})

    assert again.status == 304
    assert again.body == b""


def test_a_second_request_is_answered_from_the_cache(site):
    path = unique(GUIDE_PATH)
    first = browse(site, "GET", path)
    second = browse(site, "GET", path)
    head = browse(site, "HEAD", path)

    assert first.header("X-Cache-Status") == "MISS"
    assert second.header("X-Cache-Status") == "HIT"
    assert second.body == first.body
    assert head.status == 200 and head.header("X-Cache-Status") == "HIT" and head.body == b""


@pytest.mark.parametrize("cookie", ["sessionid", "messages"])
def test_a_visitor_with_a_session_or_a_message_is_neither_served_nor_stored(site, cookie):
    path = unique(GUIDE_PATH)
    own = browse(site, "GET", path, cookies={cookie: "someone"})
    anonymous = browse(site, "GET", path)
    own_again = browse(site, "GET", path, cookies={cookie: "someone"})

    assert own.status == 200
    assert own.header("X-Cache-Status") == "BYPASS"
    assert "private" in own.header("Cache-Control")
    # Their page was not kept for the next reader...
    assert anonymous.header("X-Cache-Status") == "MISS"
    # ...and the next reader's copy is not what they get.
    assert own_again.header("X-Cache-Status") == "BYPASS"


# Commenters


def same_origin_post(site, action, fields, **headers):
    """The comment form sent by a browser on the site's own page."""
    return browse(
        site,
        "POST",
        action,
        body=urlencode(fields).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": site.nginx.origin,
            "Sec-Fetch-Site": "same-origin",
            "Referer": site.nginx.origin + GUIDE_PATH,
            **headers,
        },
    )


def comment_form(site):
    """The form on the guide, as a reader without cookies is shown it."""
    page = browse(site, "GET", GUIDE_PATH)
    return CommentForm(cookies={}, action=comment_form_action(page.text), client_ip=HOST)


def test_a_commenter_sees_their_pending_comment_and_nobody_else_does(site):
    form = comment_form(site)
    body = f"Through nginx {uuid.uuid4().hex}: the dry lips eased by month three."
    fields = form.fields(body=body, name="Nadia", email="nadia@example.com")

    # The X-Forwarded-For a client writes itself must not become its address.
    posted = same_origin_post(site, form.action, fields, **{"X-Forwarded-For": "203.0.113.66"})
    assert posted.status == 302, posted.text[:500]
    cookies = posted.cookies()
    assert {"sessionid", "messages"} <= set(cookies)

    commenter = browse(site, "GET", GUIDE_PATH, cookies=cookies)
    assert body in commenter.text and CONFIRMATION in commenter.text
    assert commenter.header("X-Cache-Status") == "BYPASS"

    others = [
        browse(site, "GET", GUIDE_PATH),
        browse(site, "GET", GUIDE_PATH, cookies={"sessionid": "someone-elses"}),
    ]
    for other in others:
        assert other.status == 200
        assert body not in other.text and CONFIRMATION not in other.text

    stored = site.app.shell_json(
        "import json; from comments.models import Comment; "
        f"print(json.dumps(Comment.objects.get(body={body!r}).ip_address))"
    )
    assert stored == "127.0.0.1"  # the address nginx saw


def test_a_cross_site_post_is_refused(site):
    form = comment_form(site)
    body = f"Forged {uuid.uuid4().hex}"
    fields = form.fields(body=body, name="Mallory", email="m@example.com")
    forged = same_origin_post(
        site,
        form.action,
        fields,
        **{"Sec-Fetch-Site": "cross-site", "Origin": "https://attacker.example"},
    )

    assert forged.status == 403
    assert site.app.comment_bodies(body) == []


def test_an_approval_by_another_process_shows_within_two_seconds(site):
    approval = approval_delay(site.app.env, lambda path: browse(site, "GET", path).body, GUIDE_PATH)

    print(f"\napproval shown through nginx after {approval.delay} s ({approval.reads} reads)")
    assert not approval.seen_before
    assert approval.delay is not None, f"not shown within {PROMISED_DELAY} s"
    assert approval.delay <= PROMISED_DELAY


# Files, HTTPS, limits


def test_hashed_static_files_come_from_nginx_compressed_and_cached_for_a_year(site):
    page = browse(site, "GET", "/")
    hashed = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', page.text).group(1)
    on_disk = Path(settings.STATIC_ROOT) / hashed.removeprefix("/static/")

    css = browse(site, "GET", hashed, headers={"Accept-Encoding": "gzip"})
    plain_name = browse(site, "GET", "/static/css/site.css")

    assert css.status == 200
    assert css.header("Content-Encoding") == "gzip"
    assert css.body == on_disk.with_name(on_disk.name + ".gz").read_bytes()  # gzip_static's file
    assert "immutable" in css.header("Cache-Control")
    assert "max-age=31536000" in css.header("Cache-Control")
    # Everything the app serves (whitenoise's files too) carries its CSP; nginx's files do not.
    assert css.header("Content-Security-Policy") is None
    assert "immutable" not in plain_name.header("Cache-Control")


def test_uploaded_images_are_served_as_images_only(site):
    uploads = site.media_root / "markdownx"
    uploads.mkdir(parents=True, exist_ok=True)
    (uploads / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    (uploads / "page.html").write_text("<script>alert(1)</script>")
    (uploads / "disguised.png").write_text("<script>alert(1)</script>")

    image = browse(site, "GET", "/media/markdownx/photo.png")
    disguised = browse(site, "GET", "/media/markdownx/disguised.png")

    for response in (image, disguised):
        assert response.status == 200
        assert response.header("Content-Type") == "image/png"
        assert response.header("X-Content-Type-Options") == "nosniff"
        assert response.header("Content-Security-Policy") == "default-src 'none'; sandbox"
    assert browse(site, "GET", "/media/markdownx/page.html").status == 404


def test_django_knows_the_request_came_over_https(site):
    page = browse(site, "GET", "/")
    # No redirect loop, and Django sends HSTS only on requests it sees as HTTPS.
    assert page.status == 200
    assert page.header("Strict-Transport-Security")


def test_plain_http_moves_to_https_except_health_checks(site):
    def plain(path):
        connection = socket.create_connection((HOST, site.nginx.http_port), timeout=10)
        with connection:
            connection.sendall(f"GET {path} HTTP/1.0\r\nHost: {HOST}\r\n\r\n".encode())
            return read_until_closed(connection).decode(errors="replace")

    moved = plain(GUIDE_PATH)
    assert moved.startswith("HTTP/1.1 301")
    assert f"Location: https://{HOST}{GUIDE_PATH}" in moved
    assert plain("/healthz").startswith("HTTP/1.1 200")


def read_until_closed(connection):
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def tls_socket(site):
    raw = socket.create_connection((HOST, site.nginx.https_port), timeout=15)
    return site.nginx.tls_context().wrap_socket(raw, server_hostname=HOST)


def post_head(path, length, content_type="application/x-www-form-urlencoded"):
    return (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()


BOUNDARY = "nginx-test-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def multipart_body(length, **fields):
    """A form with `fields` and a file that brings the body to exactly `length` bytes."""
    parts = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    file_head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachment"; filename="a.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    end = f"\r\n--{BOUNDARY}--\r\n".encode()
    return parts + file_head + b"x" * (length - len(parts) - len(file_head) - len(end)) + end


@pytest.mark.parametrize(
    "form, content_type",
    [("comment", "text/html"), ("image upload", "application/json")],
)
def test_a_body_over_the_apps_limit_is_refused_before_it_reaches_gunicorn(site, form, content_type):
    path = {
        "comment": f"/comments/post/{site.app.article_id}/",
        "image upload": "/admin-tools/markdown/upload/",
    }[form]
    with tls_socket(site) as connection:
        # Only the head: nginx answers from the announced length.
        connection.sendall(post_head(path, settings.REQUEST_BODY_MAX_SIZE + 1, MULTIPART))
        answer = read_until_closed(connection).decode(errors="replace")

    assert answer.startswith("HTTP/1.1 413")
    assert f"Content-Type: {content_type}" in answer
    assert "5 MB" in answer
    assert not site.app.wait_for_log(lambda r: r.get("event") == "request_too_large", timeout=0.5)


def test_a_body_at_the_apps_limit_goes_through_to_the_app(site):
    body = multipart_body(
        settings.REQUEST_BODY_MAX_SIZE, body="", name="Big", email="big@example.com"
    )
    at_limit = browse(
        site,
        "POST",
        f"/comments/post/{site.app.article_id}/",
        body=body,
        headers={"Content-Type": MULTIPART},
    )
    # Not a comment (the form says what is missing), but not refused for its size either.
    assert len(body) == settings.REQUEST_BODY_MAX_SIZE
    assert at_limit.status == 400
    assert "Please fill in this field" in at_limit.text or "required" in at_limit.text


@pytest.mark.parametrize("stalls_in", ["head", "body"])
def test_clients_that_never_finish_their_request_do_not_hold_up_a_reader(site, stalls_in):
    stalled = []
    try:
        for _ in range(WORKERS):
            connection = tls_socket(site)
            if stalls_in == "head":
                connection.sendall(f"GET / HTTP/1.1\r\nHost: {HOST}\r\nUser-Agent: slow".encode())
            else:
                path = f"/comments/post/{site.app.article_id}/"
                connection.sendall(post_head(path, 1000) + b"body=only+the+start")
            stalled.append(connection)
        time.sleep(0.5)  # were they passed on to gunicorn, each would hold a worker by now

        # A reader with a session: nginx must ask gunicorn for their page.
        reader = browse(site, "GET", GUIDE_PATH, cookies={"sessionid": "a-reader"})
    finally:
        for connection in stalled:
            connection.close()

    assert reader.status == 200
    assert reader.header("X-Cache-Status") == "BYPASS"
    assert reader.finished - reader.started < PROMPT


# A busy page taken down


def test_an_article_taken_down_is_gone_within_two_seconds_even_while_readers_crowd_it(site):
    """Readers crowding a page get its expired copy while one of them refreshes it: never for long.

    When the refresh finds the article gone (a 404), that answer replaces the
    copy; were it not kept, the next reader would refresh again while the
    others went on getting the old page for as long as the crowd lasts.
    """
    slug = "how-comments-are-moderated"
    path = f"/articles/{slug}/"
    reads, stop = [], threading.Event()

    def reader():
        connection = site.nginx.connection()
        while not stop.is_set():
            started = time.time()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            reads.append((started, response.status))

    crowd = [threading.Thread(target=reader) for _ in range(CROWD)]
    for thread in crowd:
        thread.start()
    try:
        time.sleep(1.0)
        taken_down = site.app.shell_json(
            "import json, time; from articles.models import Article; before = time.time(); "
            f"Article.objects.filter(slug={slug!r}).update(status='draft'); "
            "print(json.dumps(before))"
        )
        time.sleep(PROMISED_DELAY + 1.5)
    finally:
        stop.set()
        for thread in crowd:
            thread.join()
        site.app.shell_json(
            "from articles.models import Article; "
            f"Article.objects.filter(slug={slug!r}).update(status='published'); print(1)"
        )

    late = [status for started, status in reads if started >= taken_down + PROMISED_DELAY]
    assert late, "no reads late enough to check"
    assert set(late) == {404}, f"{late.count(200)} of {len(late)} late reads still got the page"
