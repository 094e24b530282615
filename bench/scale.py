"""The scale benchmark: do page costs stay flat from 10 to 20,000 articles?

    .venv/bin/python bench/scale.py [--database-url URL] [--repeat 7]

Builds a database (a fresh SQLite file by default; PostgreSQL when
--database-url names one, which is DROPPED and re-created: never point it at
a real site) with the guide, 100,000 pending comments and 20,000 approved
comments on the guide, first with 10 published articles, then with 20,000.
At each size it renders every page in the table below in this process
(Django's test client, production settings: DEBUG off) with the cache
cleared before each request, interleaved over --repeat rounds, and prints
the median time, the response size and the query count, then their ratio
between the two sizes with ✓/✗ against the goals of issue 15: every public
page and the moderation queue at most 2× slower at 20,000 articles (search
3×), PostgreSQL search under 50 ms, the queue's first page under 150 KB,
the privacy commands in a number of queries that does not grow. A sitemap
page lists up to 1,000 URLs whatever the site's size, so for those the goal
is on the time per URL listed.

Seeding is bulk (bulk_create in batches; each comment's html rendered by
comments.text.comment_html before it is inserted), through the project's
own models, so it takes about a minute.
"""

import argparse
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEARCH_WORD = "isotretinoin"
QUEUE_WORD = "roaccutane"
ERASE_EMAIL = "Erase.Me@Example.NET"
TOPICS = [
    "Dosing", "Side effects", "Skin care", "Lab tests", "Pregnancy", "Mental health",
    "Diet", "Research", "Personal stories", "Aftercare", "Scarring", "Hair and nails",
]  # fmt: skip
WORDS = (
    "acne dermatologist dose dryness lips retinoid sebum pores skin month course cumulative "
    "liver blood test moisturiser sunscreen relapse remission scarring inflammation nodules "
    "cysts treatment capsule fatty meal absorption vitamin triglycerides cholesterol eyes "
    "nosebleeds joints back pain mood sleep exercise patience results clear calm routine"
).split()
GOALS = {"public": 2.0, "search": 3.0, "queue": 2.0}  # slower at the large size, at most


def configure(database_url):
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("DJANGO_DEBUG", None)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SECRET_KEY", "scale-benchmark-only-" + "x" * 40)
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("SITE_URL", "https://blog.example.org")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_project.settings")


def recreate_database(database_url):
    """An empty database at `database_url` (SQLite file deleted, PostgreSQL database re-created)."""
    parts = urlsplit(database_url)
    if parts.scheme.startswith("sqlite"):
        path = Path(parts.path)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


# Seeding ------------------------------------------------------------------


class Seeder:
    def __init__(self):
        from django.utils import timezone

        self.rng = random.Random(15)
        self.now = timezone.now()
        self.bodies = self._bodies()

    def _bodies(self):
        """Forty short Markdown bodies rendered once; about half mention the search word."""
        from articles.markdown import render

        bodies = []
        for n in range(40):
            words = [self.rng.choice(WORDS) for _ in range(90)]
            if n % 2 == 0:
                words[self.rng.randrange(90)] = SEARCH_WORD
            text = f"## Notes {n}\n\n" + " ".join(words[:45]) + ".\n\n" + " ".join(words[45:]) + "."
            bodies.append((text, render(text)))
        return bodies

    def base(self):
        from django.contrib.auth.models import Group, User
        from django.core.management import call_command

        from articles.models import Topic

        call_command("migrate", verbosity=0, interactive=False)
        call_command("load_guide", verbosity=0, stdout=io.StringIO())
        Topic.objects.bulk_create(
            Topic(name=name, slug=name.lower().replace(" ", "-")) for name in TOPICS
        )
        moderator = User.objects.create_user("bench-moderator", "mod@example.org", is_staff=True)
        moderator.groups.add(Group.objects.get(name="Moderators"))

    def articles(self, total):
        """Published articles up to `total`, older than those already there, each in 1-2 topics."""
        from articles.models import Article, Topic
        from articles.people import Person

        have = Article.objects.count()
        topics = list(Topic.objects.values_list("pk", flat=True))
        team = Person.objects.editorial_team()
        links = []
        batch = []
        for n in range(have, total):
            body, rendered = self.bodies[n % len(self.bodies)]
            batch.append(
                Article(
                    author=team,
                    title=f"{self.rng.choice(WORDS).title()} and {self.rng.choice(WORDS)}, note {n}",
                    slug=f"scale-note-{n}",
                    summary=f"Short note {n} about {self.rng.choice(WORDS)} and {self.rng.choice(WORDS)}.",
                    body=body,
                    body_html=rendered.html,
                    toc_html=rendered.toc_html,
                    reading_minutes=rendered.reading_minutes,
                    status=Article.Status.PUBLISHED,
                    # One every ~4.4 hours: 20,000 articles span ten years of archive months.
                    published_at=self.now - timedelta(hours=1 + n * 4.38),
                )
            )
            if len(batch) == 2000:
                links += self._save_articles(batch, topics)
                batch = []
        links += self._save_articles(batch, topics)
        Article.topics.through.objects.bulk_create(links, batch_size=5000)
        self._after_bulk()

    def _save_articles(self, batch, topics):
        from articles.models import Article

        links = []
        for article in Article.objects.bulk_create(batch):
            for topic in self.rng.sample(topics, self.rng.choice([1, 1, 2])):
                links.append(Article.topics.through(article_id=article.pk, topic_id=topic))
        return links

    def _after_bulk(self):
        """Whatever the project keeps up to date on save, brought up to date after bulk inserts."""
        from articles import browse

        browse.refresh_all()

    def comments(self, pending, guide_approved):
        """`pending` comments spread over every article, `guide_approved` threaded ones on the guide."""
        from django.db.models import Max

        from articles.management.commands.load_guide import GUIDE_SLUG
        from articles.models import Article
        from comments.models import Comment

        guide = Article.objects.get(slug=GUIDE_SLUG)
        article_ids = list(Article.objects.values_list("pk", flat=True))
        ids = iter(range((Comment.objects.aggregate(top=Max("pk"))["top"] or 0) + 1, 10**12))
        rows, roots = [], []
        start = self.now - timedelta(days=365)
        for n in range(guide_approved):
            comment = Comment(
                pk=next(ids),
                article_id=guide.pk,
                name=f"Reader {n}",
                email=f"reader{n}@example.net",
                website="https://example.org/" if n % 7 == 0 else "",
                body=f"Month {n % 9 + 1} on 20 mg: {self._sentence(18)}.",
                status=Comment.Status.APPROVED,
                created_at=start + timedelta(seconds=n * 1500),
                ip_address="203.0.113.9",
                user_agent="Mozilla/5.0 (bench)",
            )
            if roots and self.rng.random() < 0.3:
                parent = self.rng.choice(roots[-60:])
                comment.parent_id = comment.thread_id = parent
                comment.depth = 1
            else:
                roots.append(comment.pk)
            rows.append(comment)
            if len(rows) == 5000:
                self._insert(rows)
                rows = []
        pending_start = self.now - timedelta(days=100)
        for n in range(pending):
            rows.append(
                Comment(
                    pk=next(ids),
                    article_id=article_ids[n % len(article_ids)],
                    name=f"Visitor {n}",
                    email=f"visitor{n % 40_000}@example.net",
                    body=(
                        f"Is {QUEUE_WORD} the same as isotretinoin? {self._sentence(12)}."
                        if n % 100 == 0
                        else f"Question {n}: {self._sentence(20)}?"
                    ),
                    status=Comment.Status.PENDING,
                    created_at=pending_start + timedelta(seconds=n * 86),
                    ip_address=f"198.51.100.{n % 250 + 1}",
                    user_agent="Mozilla/5.0 (bench)",
                )
            )
            if len(rows) == 5000:
                self._insert(rows)
                rows = []
        self._insert(rows)
        self._reset_sequence()

    def _sentence(self, words):
        return " ".join(self.rng.choice(WORDS) for _ in range(words))

    def _insert(self, rows):
        """Render each comment's html (its id is already set), then insert them together."""
        from comments.models import Comment
        from comments.text import comment_html

        for comment in rows:
            comment.html = comment_html(comment)
        Comment.objects.bulk_create(rows, batch_size=1000)

    def _reset_sequence(self):
        from django.core.management.color import no_style
        from django.db import connection

        from comments.models import Comment

        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Comment]):
                cursor.execute(sql)

    def spread_pending(self):
        """Move the pending comments so they are spread over every article (one UPDATE)."""
        from django.db.models import F, Max, Min

        from articles.models import Article
        from comments.models import Comment

        bounds = Article.objects.aggregate(low=Min("pk"), high=Max("pk"))
        count = Article.objects.count()
        assert bounds["high"] - bounds["low"] + 1 == count, "article ids are not contiguous"
        Comment.objects.pending().update(article_id=F("pk") % count + bounds["low"])


def analyze():
    """On PostgreSQL, what autovacuum would have done by now (statistics, visibility map)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


# Measuring ----------------------------------------------------------------


class Measure:
    def __init__(self, repeat):
        from django.contrib.auth.models import User
        from django.test import Client

        self.repeat = repeat
        self.anonymous = Client()
        self.moderator = Client()
        self.moderator.force_login(User.objects.get(username="bench-moderator"))

    def pages(self):
        """(label, kind, callable returning (bytes, URLs or articles listed)) for each figure."""
        from articles.management.commands.load_guide import GUIDE_SLUG
        from articles.models import Article, Topic
        from comments import conf
        from comments.models import Comment

        guide = Article.objects.get(slug=GUIDE_SLUG)
        guide_url = guide.get_absolute_url()
        threads = Comment.objects.approved().filter(article=guide, parent=None).count()
        last_cpage = max(1, -(-threads // conf.per_page()))
        listed = Article.objects.listed().count()  # what the home page pages through
        last_page = max(1, -(-listed // 10))
        topic = Topic.objects.order_by("pk").first()
        year = Article.objects.published().order_by("published_at").first().published_at.year
        sitemap_index, sitemap_first, sitemap_last = self._sitemap_pages()

        def get(client, path, **params):
            return lambda: self._get(client, path, params)

        pages = [
            ("search ?q=" + SEARCH_WORD, "search", get(self.anonymous, "/search/", q=SEARCH_WORD)),
            ("/ page 1", "public", get(self.anonymous, "/")),
            ("/ last page", "public", get(self.anonymous, "/", page=last_page)),
            ("/topics/", "public", get(self.anonymous, "/topics/")),
            ("a topic page", "public", get(self.anonymous, topic.get_absolute_url())),
            ("/archive/<oldest year>/", "public", get(self.anonymous, f"/archive/{year}/")),
            ("/sitemap.xml", "public", get(self.anonymous, sitemap_index)),
        ]
        if sitemap_first:
            pages += [
                ("sitemap: first article page", "sitemap-page", get(self.anonymous, sitemap_first)),
                ("sitemap: last article page", "sitemap-page", get(self.anonymous, sitemap_last)),
            ]
        pages += [
            ("/feed/", "public", get(self.anonymous, "/feed/")),
            ("guide, comment page 1", "public", get(self.anonymous, guide_url)),
            (
                "guide, last comment page",
                "public",
                get(self.anonymous, guide_url, cpage=last_cpage),
            ),
            (
                "moderation queue (pending)",
                "queue",
                get(self.moderator, "/admin/comments/comment/"),
            ),
            (
                f"queue search “{QUEUE_WORD}”",
                "queue",
                get(self.moderator, "/admin/comments/comment/", q=QUEUE_WORD),
            ),
            ("erase_commenter (10 comments)", "command", self._erase),
            ("purge_comment_ips --days 0, nothing left", "command", self._purge),
        ]
        return pages

    def _sitemap_pages(self):
        """The sitemap index and the first and last pages of the article section, if any."""
        import xml.etree.ElementTree as ET

        response = self.anonymous.get("/sitemap.xml", secure=True)
        root = ET.fromstring(response.content)
        ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
        if root.tag != f"{ns}sitemapindex":
            return "/sitemap.xml", None, None
        locs = [urlsplit(loc.text) for loc in root.iter(f"{ns}loc")]
        articles = [
            u.path + (f"?{u.query}" if u.query else "") for u in locs if "article" in u.path
        ]
        return (
            "/sitemap.xml",
            (articles[0] if articles else None),
            (articles[-1] if articles else None),
        )

    def _get(self, client, path, params):
        response = client.get(path, params, secure=True)
        if response.status_code != 200:
            raise RuntimeError(f"{path} {params}: {response.status_code}")
        items = response.content.count(b"<url>") or response.content.count(
            b'<article class="teaser"'
        )
        return len(response.content), items

    def _erase(self):
        from django.core.management import call_command

        call_command("erase_commenter", ERASE_EMAIL.lower(), stdout=io.StringIO())
        return 0, 0

    def _purge(self):
        from django.core.management import call_command

        call_command("purge_comment_ips", "--days", "0", stdout=io.StringIO())
        return 0, 0

    def add_erasable_comments(self):
        """Ten comments by one commenter, in mixed capitalisation, for erase_commenter to find."""
        from articles.models import Article
        from comments.models import Comment, after_bulk_create

        article = Article.objects.order_by("-pk").first()  # not the guide, whose pages are measured
        made = Comment.objects.bulk_create(
            Comment(
                article=article,
                name="Erasable Reader",
                email=ERASE_EMAIL if n % 2 else ERASE_EMAIL.lower(),
                body=f"Erase me {n}.",
                status=Comment.Status.APPROVED if n % 3 else Comment.Status.PENDING,
                ip_address="192.0.2.1",
            )
            for n in range(10)
        )
        after_bulk_create(made)

    def run(self):
        from django.core.cache import cache
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from comments.privacy import purge_ips

        purge_ips(0)  # the first purge clears everything; the figure is for the next one
        analyze()  # as autovacuum would after it (PostgreSQL)
        pages = self.pages()
        times = {label: [] for label, _, _ in pages}
        sizes, urls, queries = {}, {}, {}
        for label, _, fetch in pages:  # warm-up, sizes and query counts
            self._prepare(label)
            cache.clear()
            with CaptureQueriesContext(connection) as captured:
                sizes[label], urls[label] = fetch()
            queries[label] = len(captured)
        for round_number in range(self.repeat):
            order = pages if round_number % 2 == 0 else list(reversed(pages))
            for label, _, fetch in order:
                self._prepare(label)
                cache.clear()
                started = time.perf_counter()
                fetch()
                times[label].append((time.perf_counter() - started) * 1000)
        return {
            label: {
                "kind": kind,
                "ms": statistics.median(times[label]),
                "min_ms": min(times[label]),
                "max_ms": max(times[label]),
                "bytes": sizes[label],
                "urls": urls[label],
                "queries": queries[label],
            }
            for label, kind, _ in pages
        }

    def _prepare(self, label):
        if label.startswith("erase_commenter"):
            self.add_erasable_comments()


# Report -------------------------------------------------------------------


def verdict(small, large, vendor):
    ratio = large["ms"] / small["ms"] if small["ms"] else float("inf")
    kind = large["kind"]
    checks = []
    if kind in GOALS:
        checks.append(ratio <= GOALS[kind])
    if kind == "sitemap-page":
        # A page lists up to `limit` URLs whatever the site's size: its cost
        # per URL listed is what must not grow.
        per_url = (large["ms"] / max(large["urls"], 1)) / (small["ms"] / max(small["urls"], 1))
        checks.append(per_url <= GOALS["public"])
    if kind == "search" and vendor == "postgresql":
        checks.append(large["ms"] < 50)
    if kind == "queue":
        checks.append(large["bytes"] < 150_000)
    if kind == "command":
        checks.append(large["queries"] == small["queries"])
    return ratio, ("✓" if all(checks) else "✗")


def report(results, vendor, sizes):
    small, large = (results[size] for size in sizes)
    lines = [
        f"| page ({vendor}) | {sizes[0]:,} articles | {sizes[1]:,} articles | ratio "
        f"| ratio of minima | size | queries | goal |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
    ]
    for label, figures in large.items():
        base = small[label]
        ratio, mark = verdict(base, figures, vendor)
        size = (
            f"{base['bytes'] / 1000:.1f} → {figures['bytes'] / 1000:.1f} KB"
            if figures["bytes"]
            else "—"
        )
        if figures["kind"] == "sitemap-page":
            size += f" ({base['urls']:,} → {figures['urls']:,} URLs)"
        elif figures["kind"] == "public" and base["urls"] != figures["urls"]:
            size += f" ({base['urls']} → {figures['urls']} articles listed)"
        low = figures["min_ms"] / base["min_ms"] if base["min_ms"] else float("inf")
        lines.append(
            f"| {label} | {base['ms']:.1f} ms | {figures['ms']:.1f} ms | {ratio:.2f}× | {low:.2f}× "
            f"| {size} | {base['queries']} / {figures['queries']} | {mark} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        help="default: a new SQLite file in a temporary folder; a PostgreSQL database named "
        "here is dropped and re-created",
    )
    parser.add_argument("--repeat", type=int, default=7, help="requests per page per size")
    parser.add_argument("--small", type=int, default=10, help="articles in the first run")
    parser.add_argument("--large", type=int, default=20_000, help="articles in the second run")
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--guide-comments", type=int, default=20_000)
    parser.add_argument("--output", default=str(ROOT / "bench-results"))
    parser.add_argument(
        "--scale", action="store_true", help=argparse.SUPPRESS
    )  # make bench's switch
    options = parser.parse_args()

    database_url = options.database_url or (
        f"sqlite:///{tempfile.mkdtemp(prefix='blog-scale-')}/scale.sqlite3"
    )
    configure(database_url)
    recreate_database(database_url)
    import warnings

    import django

    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    django.setup()
    from django.db import connection

    vendor = connection.vendor
    print(f"== {vendor}: {database_url}")
    seeder = Seeder()
    started = time.perf_counter()
    seeder.base()
    seeder.articles(options.small)
    seeder.comments(options.pending, options.guide_comments)
    analyze()
    print(
        f"== seeded {options.small} articles and the comments in {time.perf_counter() - started:.0f} s"
    )
    results = {options.small: Measure(options.repeat).run()}

    started = time.perf_counter()
    seeder.articles(options.large)
    seeder.spread_pending()
    analyze()
    print(f"== grew to {options.large:,} articles in {time.perf_counter() - started:.0f} s")
    results[options.large] = Measure(options.repeat).run()

    output = Path(options.output)
    output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(dt_timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = output / f"scale-{vendor}-{stamp}.json"
    path.write_text(json.dumps({"vendor": vendor, "results": results}, indent=2, default=str))
    table = report(results, vendor, (options.small, options.large))
    print()
    print(
        f"Median of {options.repeat} in-process requests, cache cleared before each (ratios "
        f"judged on medians); "
        f"{options.pending:,} pending comments, {options.guide_comments:,} approved on the guide."
    )
    print(table)
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
