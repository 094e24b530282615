"""The page-speed benchmark: `make bench` (or `.venv/bin/python bench/run.py --help`).

Builds a fresh SQLite database with the guide and N approved comments, starts
gunicorn with 2 sync workers, and measures, interleaved over several rounds
and reported as medians: requests/s and p50/p99 latency of the liveness
endpoint, `/`, the guide and the feed; their ratios to the liveness endpoint;
the latency of the first request after a comment is approved and after the
article is saved; queries per page; worker memory before and after each of
three blocks of 20,000 requests. Uses wrk when installed (pinned to another core than the server)
and says so when it falls back to its own slower Python client.
"""

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = "/articles/isotretinoin-journey-20-mg-40-mg-and-beyond/"
PAGES = {"liveness": "/healthz/live", "list": "/", "guide": GUIDE, "guide, returning": GUIDE, "feed": "/feed/"}
# Behind the TLS proxy gunicorn sees this header; without it the site redirects to HTTPS.
HEADERS = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
# A reader who has been here before sends the CSRF cookie the site gave them, so
# the page only masks their token instead of making them a new one.
RETURNING = {"Cookie": "csrftoken=" + "r" * 32}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--comments", type=int, default=50, help="approved comments on the guide")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=3, help="per page per round")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--memory-requests", type=int, default=20_000, help="guide requests per memory block")
    parser.add_argument("--memory-blocks", type=int, default=3, help="blocks, RSS read after each")
    parser.add_argument("--redis", action="store_true", help="use REDIS_URL=redis://127.0.0.1:6379/0")
    parser.add_argument("--output", default=str(ROOT / "bench-results"))
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="blog-bench-"))
    env = bench_env(workdir, options.redis)
    print(f"== building {workdir / 'bench.sqlite3'}: the guide and {options.comments} approved comments")
    manage(env, "migrate", "--noinput")
    manage(env, "shell", "-c", open(ROOT / "bench" / "seed.py").read(), extra={"BENCH_COMMENTS": str(options.comments)})

    cores = os.cpu_count() or 1
    port = free_port()
    server_cpu, client_cpu = ("0", "1") if cores >= 2 and shutil.which("taskset") else (None, None)
    server = start_gunicorn(env, port, server_cpu)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base)
        for path in PAGES.values():
            for _ in range(20):
                get(base, path)
        rss_before = worker_rss(server.pid)

        tool = "wrk" if shutil.which("wrk") else "python"
        if tool == "python":
            print("!! wrk is not installed (apt-get install wrk): falling back to a slower Python client;")
            print("!! its figures measure the client as much as the server.")
        rounds = {name: [] for name in PAGES}
        for round_number in range(options.rounds):
            order = list(PAGES.items())
            if round_number % 2:
                order.reverse()
            for name, path in order:
                headers = RETURNING if name.endswith("returning") else {}
                rounds[name].append(load(tool, base, path, options, client_cpu, headers))
        throughput = {name: summarise(runs) for name, runs in rounds.items()}

        after = latency_after_changes(env, base)
        memory = {"rss_kib_before": rss_before, "blocks": []}
        for _ in range(options.memory_blocks):
            requests_done = memory_run(tool, base, options, client_cpu)
            memory["blocks"].append({"requests": requests_done, "rss_kib_after": worker_rss(server.pid)})
    finally:
        server.terminate()
        server.wait(timeout=10)

    queries = count_queries(env)
    report = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": cores,
        "tool": tool,
        "cache": "redis" if options.redis else "local memory",
        "comments": options.comments,
        "server": f"gunicorn -w 2 (sync){' on core ' + server_cpu if server_cpu else ''}",
        "throughput": throughput,
        "after_change": after,
        "queries": queries,
        "memory": memory,
    }
    print_report(report)
    out = Path(options.output)
    out.mkdir(exist_ok=True)
    path = out / f"bench-{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"\nfigures saved to {path}")
    shutil.rmtree(workdir, ignore_errors=True)


# --- set-up ------------------------------------------------------------------


def bench_env(workdir, redis):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        DJANGO_SECRET_KEY="bench-only-secret-key-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
        SITE_URL="https://blog.example.org",
        PYTHONPATH=str(ROOT),
    )
    if redis:
        env["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    return env


def manage(env, *args, extra=None):
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**env, **(extra or {})},
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(env, port, cpu):
    command = [
        sys.executable, "-m", "gunicorn", "site_project.wsgi",
        "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
    ]  # fmt: skip
    if cpu is not None:
        command = ["taskset", "-c", cpu, *command]
    return subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def wait_until_up(base):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if get(base, "/healthz/live")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def get(base, path, headers=None):
    """One request on a fresh connection (gunicorn's sync workers close each one)."""
    host, port = base.removeprefix("http://").split(":")
    connection = HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", path, headers={**HEADERS, **(headers or {})})
        response = connection.getresponse()
        body = response.read()
        return response.status, body
    finally:
        connection.close()


def worker_rss(master_pid):
    """Resident memory of each gunicorn worker, KiB."""
    sizes = []
    for child in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split():
        status = Path(f"/proc/{child}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)))
    return sizes


# --- load ----------------------------------------------------------------------


def load(tool, base, path, options, cpu, headers=None):
    headers = {**HEADERS, **(headers or {})}
    if tool == "wrk":
        return wrk(base, path, options.seconds, options.connections, cpu, headers)
    return python_load(base, path, options.seconds, options.connections, headers)


def wrk(base, path, seconds, connections, cpu, headers):
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(base + path)
    if cpu is not None:
        command = ["taskset", "-c", cpu, *command]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": _ms(re.search(r"50%\s+([\d.]+\w+)", out).group(1)),
        "p99_ms": _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "errors": int(errors.group(1)) if errors else 0,
    }


def _ms(text):
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def python_load(base, path, seconds, connections, headers):
    latencies, errors = [], [0]
    stop = time.monotonic() + seconds

    def client():
        while time.monotonic() < stop:
            started = time.perf_counter()
            status, _ = get(base, path, headers)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors[0] += 1

    threads = [threading.Thread(target=client) for _ in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    ordered = sorted(latencies)
    return {
        "rps": len(ordered) / elapsed,
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99)] * 1000,
        "requests": len(ordered),
        "errors": errors[0],
    }


def summarise(runs):
    return {
        "rps": statistics.median(r["rps"] for r in runs),
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "rounds": len(runs),
    }


def memory_run(tool, base, options, cpu):
    """At least --memory-requests requests to the guide; returns how many were made."""
    done = 0
    while done < options.memory_requests:
        result = load(tool, base, GUIDE, options, cpu)
        done += result["requests"]
    return done


# --- the first request after a change ------------------------------------------

_CHANGE = """
import sys, time
from articles.models import Article
from comments.models import Comment
from comments.moderation import approve_comment
guide = Article.objects.get(slug="isotretinoin-journey-20-mg-40-mg-and-beyond")
marker = "MARKER"
if sys.argv[-1] == "approve":
    # A reply to the first thread: it is on the first comment page however many trials run.
    first = Comment.objects.approved().filter(article=guide, parent=None).order_by("created_at", "id").first()
    comment = Comment.objects.create(article=guide, parent=first, name="Bench", email="bench@example.net",
                                     body=marker)
    approve_comment(comment, None)
else:
    guide.summary = guide.summary.split(" [")[0] + " [" + marker + "]"
    guide.save()
"""


def latency_after_changes(env, base, trials=5):
    """Median latency of the guide's first request after each kind of change, and of liveness.

    Measured in two conditions, liveness alike in each so the ratio compares
    like with like:
    - "serving": the site goes on serving other readers (a trickle of
      liveness and list requests) while the change settles, as a site in
      use does;
    - "idle": nothing at all for the pause. On a virtual machine a core
      that has idled for a second takes milliseconds to wake, and any first
      request pays it (liveness included), so here liveness is measured as
      the first request after the same change and the same pause.
    """
    results = {condition: {"approve": [], "save": [], "liveness": []} for condition in ("serving", "idle")}
    for trial in range(trials):
        for change in ("approve", "save"):
            marker = apply_change(env, change, trial)
            with trickle(base):
                time.sleep(SETTLE_SECONDS)
            results["serving"][change].append(first_guide_request(base, change, marker))
            results["serving"]["liveness"].append(timed_get(base, "/healthz/live")[0])

            marker = apply_change(env, change, trial)
            time.sleep(SETTLE_SECONDS)
            results["idle"][change].append(first_guide_request(base, change, marker))
        apply_change(env, "approve", trial)
        time.sleep(SETTLE_SECONDS)
        results["idle"]["liveness"].append(timed_get(base, "/healthz/live")[0])
    return {
        condition: {name: statistics.median(values) for name, values in figures.items()}
        for condition, figures in results.items()
    }


# Past the window in which a worker may still use the versions it read
# (PAGE_CACHE_RECHECK_SECONDS).
SETTLE_SECONDS = 1.1


def first_guide_request(base, change, marker):
    elapsed, status, body = timed_get(base, GUIDE)
    assert status == 200, status
    assert marker.encode() in body, f"the first request after '{change}' did not show it"
    return elapsed


def timed_get(base, path):
    """(milliseconds, status, body) of one request."""
    started = time.perf_counter()
    status, body = get(base, path)
    return (time.perf_counter() - started) * 1000, status, body


@contextlib.contextmanager
def trickle(base, interval=0.005):
    """Other readers keep the server busy: liveness and the article list, never the guide.

    The list goes through the same middleware, page cache and database
    connection as the guide, so the guide's first request after a change
    finds them as a site in use would, yet is still the first to read the
    guide's new versions.
    """
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            for path in ("/healthz/live", "/"):
                get(base, path)
            stop.wait(interval)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def apply_change(env, change, trial):
    """Approve a new comment or save the guide, in another process, as a moderator or editor would."""
    marker = f"bench-change-{change}-{trial}-{time.time()}"
    script = _CHANGE.replace('sys.argv[-1] == "approve"', repr(change == "approve"))
    script = script.replace("MARKER", marker)
    manage(env, "shell", "-c", script)
    return marker


# --- queries per page ---------------------------------------------------------------

_QUERIES = """
import json
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.contrib.auth.models import Group, User
pages = {"list": "/", "guide": "%(guide)s", "feed": "/feed/"}
client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
counts = {}
for name, path in pages.items():
    cache.clear()
    with CaptureQueriesContext(connection) as cold:
        client.get(path)
    with CaptureQueriesContext(connection) as warm:
        client.get(path)
    counts[name] = {"uncached": len(cold), "cached": len(warm)}
moderator, _ = User.objects.get_or_create(username="bench-moderator", defaults={"is_staff": True})
moderator.groups.add(Group.objects.get(name="Moderators"))
staff = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
staff.force_login(moderator)
with CaptureQueriesContext(connection) as queue:
    staff.get("/admin/comments/comment/?status=all")
counts["moderation queue"] = {"uncached": len(queue), "cached": None}
print("QUERIES" + json.dumps(counts))
""" % {"guide": GUIDE}


def count_queries(env):
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", _QUERIES],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout.split("QUERIES", 1)[1])


# --- the report -----------------------------------------------------------------------


def print_report(report):
    live = report["throughput"]["liveness"]
    print(f"\n== {report['date']}, {report['cores']} cores, {report['server']}, cache: {report['cache']},")
    print(f"   load by {report['tool']}, guide with {report['comments']} approved comments")
    print(f"{'page':<17} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'× liveness':>11} {'errors':>7}")
    for name, figures in report["throughput"].items():
        ratio = figures["rps"] / live["rps"]
        print(
            f"{name:<17} {figures['rps']:>9.0f} {figures['p50_ms']:>8.2f} {figures['p99_ms']:>8.2f}"
            f" {ratio:>11.2f} {figures['errors']:>7}"
        )
    print("\nfirst guide request after a change, median ms (× a liveness request alike):")
    print(f"  {'':<17} {'site serving':>20} {'site idle 1.1 s':>20}")
    serving, idle = report["after_change"]["serving"], report["after_change"]["idle"]
    for name, label in (("approve", "comment approved"), ("save", "article saved"), ("liveness", "liveness")):
        cells = [
            f"{figures[name]:6.2f} ms ({figures[name] / figures['liveness']:.2f}×)"
            for figures in (serving, idle)
        ]
        print(f"  {label:<17} {cells[0]:>20} {cells[1]:>20}")
    print("\nqueries per page (uncached / cached):")
    for name, counts in report["queries"].items():
        print(f"  {name:<17} {counts['uncached']} / {counts['cached'] if counts['cached'] is not None else '-'}")
    memory = report["memory"]
    print(f"\nworker RSS (KiB per worker), after warm-up: {memory['rss_kib_before']}")
    for number, block in enumerate(memory["blocks"], 1):
        print(f"  after guide requests block {number} ({block['requests']} requests): {block['rss_kib_after']}")


if __name__ == "__main__":
    main()
