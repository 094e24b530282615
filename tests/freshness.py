"""How long a moderator's approval, made in another process, takes to reach a reader.

DESIGN.md promises that an approved comment shows within 2 seconds, with every
cache on the way (each gunicorn worker's, nginx's) left to expire on its own.
A `manage.py shell` stands for the moderator's process: it adds a pending
reply to the article's first thread, then, when told, approves it with
comments.moderation.approve_comment. A reader fetches the page every 50 ms
from well before the approval, so the caches hold the page as it was. The
delay is from the approval's commit to the start of the first read that
shows the comment (counted from just before approve_comment() is called, so
the approval's own few milliseconds count against the promise).

Used by tests/test_nginx.py and by `make bench` (with and without nginx).
"""

import json
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MODERATOR = """
import json, sys, time
from articles.models import Article
from comments.models import Comment
from comments.moderation import approve_comment
article = Article.objects.get(slug={slug!r})
# A reply to the first thread is on the first comment page, however many comments there are.
first = Comment.objects.approved().filter(article=article, parent=None).order_by("created_at", "id").first()
comment = Comment.objects.create(
    article=article, parent=first, name="Freshness probe", email="probe@example.net",
    body={marker!r}, status=Comment.Status.PENDING,
)
print("ready", flush=True)
sys.stdin.readline()
before = time.time()
approve_comment(comment, None)  # autocommit: committed when it returns
print(json.dumps({{"before": before}}), flush=True)
"""


@dataclass
class Approval:
    """What a reader saw of one approval."""

    delay: float | None  # seconds from the approval to the first read showing it; None: not seen
    seen_before: bool  # a read answered before the approval showed it (never should)
    reads: int


def approval_delay(env, fetch, article_path, *, interval=0.05, warm=1.5, give_up=6.0):
    """Approve a new comment on the article at `article_path` from another process; an Approval.

    `fetch(path)` returns the page's body (bytes) as a reader without cookies
    gets it; `env` is the server's environment, so the moderator's process
    uses the same database.
    """
    slug = article_path.strip("/").split("/")[-1]
    marker = f"freshness-probe-{uuid.uuid4().hex}"
    moderator = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", MODERATOR.format(slug=slug, marker=marker)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reads, errors, stop = [], [], threading.Event()

    def reader():
        while not stop.is_set():
            started = time.time()
            try:
                body = fetch(article_path)
            except Exception as error:  # handed to the caller below
                errors.append(error)
                return
            reads.append((started, time.time(), marker.encode() in body))
            stop.wait(max(0.0, started + interval - time.time()))

    thread = threading.Thread(target=reader, daemon=True)
    try:
        _wait_for_line(moderator, "ready")
        thread.start()
        time.sleep(warm)
        moderator.stdin.write("go\n")
        moderator.stdin.flush()
        approved = json.loads(_wait_for_line(moderator, "{"))["before"]
        deadline = time.time() + give_up
        while time.time() < deadline and not errors and not _shown(reads, approved):
            time.sleep(interval)
    finally:
        stop.set()
        if thread.is_alive():
            thread.join()
        moderator.stdin.close()
        try:
            moderator.wait(timeout=30)
        except subprocess.TimeoutExpired:
            moderator.kill()
            moderator.wait()
    if errors:
        raise errors[0]
    shown = _shown(reads, approved)
    return Approval(
        delay=min(shown) - approved if shown else None,
        seen_before=any(seen for started, finished, seen in reads if finished < approved),
        reads=len(reads),
    )


def _shown(reads, approved):
    """Start times of the reads made after the approval that showed the comment."""
    return [started for started, finished, seen in list(reads) if seen and started >= approved]


def _wait_for_line(process, start, timeout=60):
    """The first line of the process's output that starts with `start`."""
    deadline = time.monotonic() + timeout
    # The shell may first say how many models it imported.
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the moderator's shell stopped:\n{process.stderr.read()[-3000:]}")
        if line.startswith(start):
            return line
    raise RuntimeError(f"the moderator's shell did not say {start!r} in {timeout} s")
