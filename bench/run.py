"""The speed benchmark: `make bench` (or `.venv/bin/python bench/run.py --help`).

Builds a fresh SQLite database with the guide and N approved comments, starts
gunicorn with 2 sync workers and, in front of it, nginx with the shipped
configuration (deploy/nginx.conf, run as tests/test_nginx.py runs it), both
pinned to core 0, and loads them with wrk pinned to core 1. In one run:

- gunicorn alone: requests/s, p50/p99 latency and server CPU time per
  request of the liveness endpoint, `/`, the guide and the feed, interleaved
  over several rounds (medians); the guide against liveness (targets: at
  least 0.8x its requests/s, at most 3x its p99);
- through nginx over HTTPS: the guide's requests/s against gunicorn alone's
  (target: at least 10x), and the same with gzip asked for, as browsers do;
- freshness: how long an approval made by another process takes to show on
  the guide, with and without nginx (target: within 2 s);
- queries per page, and worker memory after blocks of guide requests.

Uses wrk when installed and says so when it falls back to its own, slower,
Python client; without nginx, says so and measures gunicorn alone.
"""

import argparse
import json
import os
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.client import HTTPConnection, HTTPSConnection
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.freshness import approval_delay  # noqa: E402
from tests.nginx_front import (  # noqa: E402
    NginxUnavailable,
    free_port,
    nginx_in_front,
    require_nginx,
)

GUIDE = "/articles/isotretinoin-journey-20-mg-40-mg-and-beyond/"
# Behind the TLS proxy gunicorn sees this header; without it the site redirects to HTTPS.
GUNICORN_HEADERS = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
# The benchmark's nginx has a self-signed certificate; what is measured is the server.
UNVERIFIED_TLS = ssl.create_default_context()
UNVERIFIED_TLS.check_hostname = False
UNVERIFIED_TLS.verify_mode = ssl.CERT_NONE

TARGET_GUIDE_RPS = 0.8  # x liveness, gunicorn alone
TARGET_GUIDE_P99 = 3.0  # x liveness's p99, gunicorn alone
TARGET_NGINX = 10.0  # x the guide's requests/s from gunicorn alone
TARGET_FRESHNESS = 2.0  # seconds


@dataclass
class Target:
    """One URL under load, the headers every request to it carries, and the servers that answer it."""

    name: str
    url: str
    headers: dict = field(default_factory=dict)
    servers: tuple = ()  # master pids whose workers' CPU time the requests cost


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--comments", type=int, default=50, help="approved comments on the guide")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=3, help="per page per round")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--memory-requests", type=int, default=20_000, help="guide requests per memory block"
    )
    parser.add_argument("--memory-blocks", type=int, default=3, help="blocks, RSS read after each")
    parser.add_argument(
        "--approvals", type=int, default=3, help="freshness trials, with and without nginx"
    )
    parser.add_argument(
        "--redis", action="store_true", help="use REDIS_URL=redis://127.0.0.1:6379/0"
    )
    parser.add_argument("--output", default=str(ROOT / "bench-results"))
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="blog-bench-"))
    env = bench_env(workdir, options.redis)
    print(
        f"== building {workdir / 'bench.sqlite3'}: the guide and {options.comments} approved comments"
    )
    manage(env, "migrate", "--noinput")
    manage(
        env,
        "shell",
        "-c",
        open(ROOT / "bench" / "seed.py").read(),
        extra={"BENCH_COMMENTS": str(options.comments)},
    )

    cores = os.cpu_count() or 1
    server_cpu, client_cpu = ("0", "1") if cores >= 2 and shutil.which("taskset") else (None, None)
    pin = ("taskset", "-c", server_cpu) if server_cpu else ()
    tool = "wrk" if shutil.which("wrk") else "python"
    if tool == "python":
        print(
            "!! wrk is not installed (apt-get install wrk): falling back to a slower Python client;"
        )
        print("!! its figures measure the client as much as the server.")

    port = free_port()
    gunicorn_base = f"http://127.0.0.1:{port}"
    server = start_gunicorn(env, port, pin)
    with ExitStack() as stack:
        stack.callback(stop, server)
        wait_until_up(gunicorn_base)
        nginx = start_nginx(stack, port, workdir, pin)
        targets = [
            Target(name, gunicorn_base + path, GUNICORN_HEADERS, (server.pid,))
            for name, path in (
                ("liveness", "/healthz/live"),
                ("list", "/"),
                ("guide", GUIDE),
                ("feed", "/feed/"),
            )
        ]
        if nginx:
            # nginx's own work, and gunicorn's for the page's refreshes.
            both = (nginx.process.pid, server.pid)
            targets += [
                Target("guide via nginx", nginx.origin + GUIDE, {}, both),
                Target(
                    "guide via nginx, gzip", nginx.origin + GUIDE, {"Accept-Encoding": "gzip"}, both
                ),
            ]
        for target in targets:
            for _ in range(20):
                get(target.url, target.headers)
        rss_before = worker_rss(server.pid)

        rounds = {target.name: [] for target in targets}
        for round_number in range(options.rounds):
            for target in targets if round_number % 2 == 0 else reversed(targets):
                rounds[target.name].append(load(tool, target, options, client_cpu))
        throughput = {name: summarise(runs) for name, runs in rounds.items()}

        memory = {"rss_kib_before": rss_before, "blocks": []}
        for _ in range(options.memory_blocks):
            guide = next(target for target in targets if target.name == "guide")
            requests_done = memory_run(tool, guide, options, client_cpu)
            memory["blocks"].append(
                {"requests": requests_done, "rss_kib_after": worker_rss(server.pid)}
            )

        freshness = {"gunicorn alone": [], "through nginx": []}
        for _ in range(options.approvals):
            freshness["gunicorn alone"].append(
                approval_seconds(env, lambda path: get(gunicorn_base + path, GUNICORN_HEADERS)[1])
            )
            if nginx:
                freshness["through nginx"].append(
                    approval_seconds(env, lambda path: get(nginx.origin + path)[1])
                )

    queries = count_queries(env)
    report = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": cores,
        "tool": tool,
        "cache": "redis" if options.redis else "local memory",
        "comments": options.comments,
        "server": f"gunicorn -w 2 (sync){' on core ' + server_cpu if server_cpu else ''}",
        "nginx": bool(nginx),
        "throughput": throughput,
        "freshness_seconds": freshness,
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
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        DJANGO_SECRET_KEY="bench-only-secret-key-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
        SITE_URL="https://blog.example.org",
        # One proxy (nginx) appends to X-Forwarded-For, as in production.
        DJANGO_TRUSTED_PROXIES="1",
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


def start_gunicorn(env, port, pin):
    command = [
        *pin, sys.executable, "-m", "gunicorn", "site_project.wsgi",
        "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
    ]  # fmt: skip
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL
    )


def stop(server):
    server.terminate()
    server.wait(timeout=10)


def start_nginx(stack, port, workdir, pin):
    """deploy/nginx.conf in front of gunicorn, one worker on the server's core; None without nginx."""
    try:
        require_nginx()
    except NginxUnavailable as error:
        print(f"!! {error}: the figures through nginx are left out.")
        return None
    return stack.enter_context(
        nginx_in_front(f"127.0.0.1:{port}", workdir / "nginx", workers=1, command_prefix=pin)
    )


def wait_until_up(base):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if get(base + "/healthz/live", GUNICORN_HEADERS)[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def get(url, headers=None):
    """(status, body) of one request on a fresh connection (gunicorn's sync workers close each one)."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        connection = HTTPSConnection(parts.hostname, parts.port, timeout=10, context=UNVERIFIED_TLS)
    else:
        connection = HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(
            "GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {}
        )
        response = connection.getresponse()
        return response.status, response.read()
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


def load(tool, target, options, cpu):
    """One load run; with the servers' CPU time per request, which other work on the machine hardly moves."""
    cpu_before = workers_cpu_seconds(target.servers)
    if tool == "wrk":
        result = wrk(target, options.seconds, options.connections, cpu)
    else:
        result = python_load(target, options.seconds, options.connections)
    spent = workers_cpu_seconds(target.servers) - cpu_before
    result["cpu_us_per_request"] = spent / max(1, result["requests"]) * 1e6
    return result


def workers_cpu_seconds(masters):
    """CPU time (user + system) used so far by the worker processes of these masters."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for master in masters:
        for child in Path(f"/proc/{master}/task/{master}/children").read_text().split():
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def wrk(target, seconds, connections, cpu):
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in target.headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(target.url)
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


def python_load(target, seconds, connections):
    latencies, errors = [], [0]
    stop_at = time.monotonic() + seconds

    def client():
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            status, _ = get(target.url, target.headers)
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
        "cpu_us_per_request": statistics.median(r["cpu_us_per_request"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "rounds": len(runs),
    }


def memory_run(tool, target, options, cpu):
    """At least --memory-requests requests to the guide; returns how many were made."""
    done = 0
    while done < options.memory_requests:
        done += load(tool, target, options, cpu)["requests"]
    return done


# --- freshness -------------------------------------------------------------------


def approval_seconds(env, fetch):
    """Seconds until an approval made in a `manage.py shell` shows on the guide; None if not in 6 s."""
    approval = approval_delay(env, fetch, GUIDE)
    if approval.seen_before:
        raise SystemExit("!! the probe comment showed before it was approved")
    return approval.delay


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
    figures = report["throughput"]
    live, guide = figures["liveness"], figures["guide"]
    print(
        f"\n== {report['date']}, {report['cores']} cores, {report['server']}, cache: {report['cache']},"
    )
    print(f"   nginx: {'1 worker on the same core, HTTPS' if report['nginx'] else 'not installed'}; "
          f"load by {report['tool']}; guide with {report['comments']} approved comments")  # fmt: skip
    print(
        f"\n{'':<22} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>14} {'CPU µs/req':>11} {'errors':>7}"
    )
    for name, row in figures.items():
        if "nginx" in name:
            ratio = f"{row['rps'] / guide['rps']:.1f}× guide"
        else:
            ratio = f"{row['rps'] / live['rps']:.2f}× liveness"
        print(
            f"{name:<22} {row['rps']:>9.0f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} {ratio:>14}"
            f" {row['cpu_us_per_request']:>11.0f} {row['errors']:>7}"
        )
    print("(CPU µs/req: the server processes' own CPU time per request, nginx's and gunicorn's")
    print(" through nginx; unlike req/s, it hardly moves when other work shares the cores.)")

    print("\ntargets:")
    checks = [
        (f"guide ≥ {TARGET_GUIDE_RPS}× liveness req/s, gunicorn alone", guide["rps"] / live["rps"], TARGET_GUIDE_RPS, "≥", "×"),
        (f"guide p99 ≤ {TARGET_GUIDE_P99:.0f}× liveness p99, gunicorn alone", guide["p99_ms"] / live["p99_ms"], TARGET_GUIDE_P99, "≤", "×"),
    ]  # fmt: skip
    if report["nginx"]:
        checks.append((f"guide via nginx ≥ {TARGET_NGINX:.0f}× gunicorn alone", figures["guide via nginx"]["rps"] / guide["rps"], TARGET_NGINX, "≥", "×"))  # fmt: skip
    for setting, delays in report["freshness_seconds"].items():
        if delays:
            slowest = max(float("inf") if d is None else d for d in delays)
            checks.append((f"approval shown ≤ {TARGET_FRESHNESS:.0f} s, {setting} (slowest of {len(delays)})", slowest, TARGET_FRESHNESS, "≤", " s"))  # fmt: skip
    for label, value, target, sense, unit in checks:
        met = value >= target if sense == "≥" else value <= target
        print(f"  {'✓' if met else '✗'} {label:<58} {value:>6.2f}{unit}")
    if report["nginx"]:
        per_core = guide["cpu_us_per_request"] / figures["guide via nginx"]["cpu_us_per_request"]
        print(
            f"    through nginx, a guide costs the server {per_core:.1f}× less CPU than from gunicorn alone"
        )
    for setting, delays in report["freshness_seconds"].items():
        if delays:
            print(
                f"    {setting}: "
                + ", ".join("not seen" if d is None else f"{d:.2f} s" for d in delays)
            )

    print("\nqueries per page (uncached / cached):")
    for name, counts in report["queries"].items():
        print(
            f"  {name:<17} {counts['uncached']} / {counts['cached'] if counts['cached'] is not None else '-'}"
        )
    memory = report["memory"]
    print(f"\nworker RSS (KiB per worker), after warm-up: {memory['rss_kib_before']}")
    for number, block in enumerate(memory["blocks"], 1):
        print(
            f"  after guide requests block {number} ({block['requests']} requests): {block['rss_kib_after']}"
        )


if __name__ == "__main__":
    main()
