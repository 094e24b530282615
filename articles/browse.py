"""Topic counts and archive months for readers, without counting every article per request.

Counting the published articles of each topic and month on every render
costs time in proportion to the whole site (20 ms for topics and 10 ms for
months at 20,000 articles on SQLite, over a 5 ms page). So the counts are
kept (ArchiveMonth, TopicArticleCount) and read in one small query each.

They count articles with the published status *including scheduled ones*,
which makes them independent of the clock: they change only when an article
is saved or deleted or its topics change. Readers must not see a scheduled
article early, and nothing runs when one comes due, so the few scheduled
articles are read at render (one indexed query) and subtracted. The figures
are therefore right at every moment without a cron job.

A figure is never incremented, always recounted from the articles (one
month's range of an index, or one topic's links) in the transaction that
changed them. On PostgreSQL the figure's row is locked before the count
(SELECT … FOR UPDATE): a second editor saving at the same moment waits, and
their count, a new statement under READ COMMITTED, sees the first one's
commit; the race that made kept comment counts lose approvals (issue 10)
cannot happen. SQLite has one writer at a time.

Saves, deletes and topic changes are followed through signals (connected in
articles.apps). Writes that send no signal (queryset.update(), bulk_create(),
loaddata) must be followed by refresh_all().
"""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache

from django.db import transaction
from django.db.models import Count, Q
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dates import MONTHS
from django.utils.html import format_html_join

from .models import ArchiveMonth, Article, Topic, TopicArticleCount


def month_of(moment):
    """The first day of `moment`'s month in the site's time zone."""
    return timezone.localtime(moment).date().replace(day=1)


def month_range(month):
    """The aware datetimes [start, end) of a month in the site's time zone."""
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return tuple(timezone.make_aware(datetime.combine(day, time.min)) for day in (month, following))


# Reading ----------------------------------------------------------------


def scheduled():
    """(article id, published_at, topic id or None) of every scheduled article: one query."""
    return list(Article.objects.scheduled().order_by().values_list("pk", "published_at", "topics"))


def topics(scheduled_rows=None):
    """Topics with published articles, by name, each with `published_count`."""
    rows = scheduled() if scheduled_rows is None else scheduled_rows
    to_come = Counter(topic for _, _, topic in rows if topic is not None)
    visible = []
    for topic in Topic.objects.with_article_counts().order_by("name"):
        topic.published_count -= to_come[topic.pk]
        if topic.published_count > 0:
            visible.append(topic)
    return visible


def topic_article_count(topic):
    """How many published articles `topic` shows: its kept count less its scheduled ones.

    `topic` should come with select_related("tally"). Counting the topic's
    articles instead joins every one of them (5 ms for 1,700 on SQLite).
    """
    try:
        kept = topic.tally.published
    except TopicArticleCount.DoesNotExist:
        return 0
    return kept - Article.objects.scheduled().filter(topics=topic).count()


def archive_months(scheduled_rows=None):
    """[(first day of the month, published articles)], newest first, months with none left out."""
    rows = scheduled() if scheduled_rows is None else scheduled_rows
    to_come = Counter(
        month_of(published_at) for published_at in {pk: at for pk, at, _ in rows}.values()
    )
    months = []
    for month, count in ArchiveMonth.objects.filter(published__gt=0).values_list(
        "month", "published"
    ):
        count -= to_come[month]
        if count > 0:
            months.append((month, count))
    return months


def archive_years(months):
    """`months` grouped by year, newest first, each year with its months' links as HTML.

    [{"year", "url", "count", "months_html"}]. Ten years of archive are 120
    links on every list page: rendered in the template (a {% url %} and two
    filters each) they cost 8 ms on SQLite, more than the rest of the page.
    The HTML depends only on `months` and the language, both read afresh for
    every page, so it is made once per process for each distinct archive.
    """
    return _archive_years(tuple(months), translation.get_language())


@lru_cache(maxsize=8)
def _archive_years(months, language):
    years = []
    for month, count in months:
        if not years or years[-1]["year"] != month.year:
            url = reverse("articles:archive-year", args=[month.year])
            years.append({"year": month.year, "url": url, "count": 0, "months": []})
        years[-1]["count"] += count
        years[-1]["months"].append((f"{years[-1]['url']}{month:%m}/", MONTHS[month.month], count))
    for year in years:
        year["months_html"] = format_html_join(
            "\n", '<li><a href="{}">{}</a> <span class="count">({})</span></li>', year.pop("months")
        )
    return years


@dataclass
class Figures:
    topics: list
    years: list


def figures():
    """The topics and the archive of the browse box: three small queries."""
    rows = scheduled()
    return Figures(topics=topics(rows), years=archive_years(archive_months(rows)))


# Keeping ----------------------------------------------------------------


def _counted(status, published_at, kind):
    """Whether an article in this state counts in the figures (site pages never do)."""
    return (
        status == Article.Status.PUBLISHED
        and published_at is not None
        and kind == Article.Kind.ARTICLE
    )


@transaction.atomic
def refresh(months=(), topic_ids=()):
    """Recount the given months and topics from the articles, their rows locked first."""
    months = sorted({month for month in months if month is not None})
    if months:
        ArchiveMonth.objects.bulk_create(
            [ArchiveMonth(month=month) for month in months], ignore_conflicts=True
        )
        list(ArchiveMonth.objects.select_for_update().filter(month__in=months).order_by("month"))
        for month in months:
            start, end = month_range(month)
            count = (
                Article.objects.published_or_scheduled()
                .filter(published_at__gte=start, published_at__lt=end)
                .count()
            )
            ArchiveMonth.objects.filter(month=month).update(published=count)
    topic_ids = sorted(
        set(Topic.objects.filter(pk__in=set(topic_ids)).values_list("pk", flat=True))
    )
    if topic_ids:
        TopicArticleCount.objects.bulk_create(
            [TopicArticleCount(topic_id=pk) for pk in topic_ids], ignore_conflicts=True
        )
        list(
            TopicArticleCount.objects.select_for_update()
            .filter(topic_id__in=topic_ids)
            .order_by("topic_id")
        )
        counts = dict(
            Article.topics.through.objects.filter(
                topic_id__in=topic_ids,
                article__in=Article.objects.published_or_scheduled(),
            )
            .values_list("topic_id")
            .annotate(n=Count("pk"))
        )
        for pk in topic_ids:
            TopicArticleCount.objects.filter(topic_id=pk).update(published=counts.get(pk, 0))


@transaction.atomic
def refresh_all():
    """Recount every figure: after bulk writes that send no signals, and in the migration."""
    months = Counter(
        month_of(published_at)
        for published_at in Article.objects.published_or_scheduled()
        .order_by()
        .values_list("published_at", flat=True)
        .iterator(chunk_size=5000)
    )
    ArchiveMonth.objects.all().delete()
    ArchiveMonth.objects.bulk_create(ArchiveMonth(month=m, published=n) for m, n in months.items())
    counted = Q(articles__in=Article.objects.published_or_scheduled())
    TopicArticleCount.objects.all().delete()
    TopicArticleCount.objects.bulk_create(
        TopicArticleCount(topic_id=pk, published=n)
        for pk, n in Topic.objects.annotate(n=Count("articles", filter=counted)).values_list(
            "pk", "n"
        )
    )


def _remember_state(sender, instance, raw=False, **kwargs):
    instance._browse_before = None
    if instance.pk is not None and not raw:
        instance._browse_before = (
            Article.objects.filter(pk=instance.pk)
            .values_list("status", "published_at", "kind")
            .first()
        )


def _article_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return  # loaddata: refresh_all() afterwards
    before = getattr(instance, "_browse_before", None) or (None, None, None)
    after = (instance.status, instance.published_at, instance.kind)
    if before == after:
        return
    months = {month_of(state[1]) for state in (before, after) if _counted(*state)}
    topic_ids = []
    if _counted(*before) != _counted(*after):
        topic_ids = list(instance.topics.values_list("pk", flat=True))
    if months or topic_ids:
        refresh(months, topic_ids)


def _remember_topics(sender, instance, **kwargs):
    instance._browse_topics = []
    if _counted(instance.status, instance.published_at, instance.kind):
        instance._browse_topics = list(instance.topics.values_list("pk", flat=True))


def _article_deleted(sender, instance, **kwargs):
    if _counted(instance.status, instance.published_at, instance.kind):
        refresh([month_of(instance.published_at)], getattr(instance, "_browse_topics", []))


def _topics_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if isinstance(instance, Topic):  # topic.articles.add(…) and the like
        if action in {"post_add", "post_remove", "post_clear"}:
            refresh(topic_ids=[instance.pk])
        return
    if not _counted(instance.status, instance.published_at, instance.kind):
        return  # a draft's or a site page's topics count nowhere
    if action == "pre_clear":
        instance._browse_cleared = list(instance.topics.values_list("pk", flat=True))
    elif action in {"post_add", "post_remove"}:
        refresh(topic_ids=pk_set or ())
    elif action == "post_clear":
        refresh(topic_ids=getattr(instance, "_browse_cleared", []))


def connect():
    uid = "articles.browse"
    pre_save.connect(_remember_state, sender=Article, dispatch_uid=f"{uid}.pre_save")
    post_save.connect(_article_saved, sender=Article, dispatch_uid=f"{uid}.post_save")
    pre_delete.connect(_remember_topics, sender=Article, dispatch_uid=f"{uid}.pre_delete")
    post_delete.connect(_article_deleted, sender=Article, dispatch_uid=f"{uid}.post_delete")
    m2m_changed.connect(_topics_changed, sender=Article.topics.through, dispatch_uid=f"{uid}.m2m")
