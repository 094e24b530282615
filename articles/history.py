"""An article's versions as editors read them on its History page, and going back to one.

django-simple-history keeps a record of the article's own fields at every
save. What the article links to (recommended articles, references, topics)
lives in other tables, so each record also carries a snapshot of those links
(`HistoricalArticle.links`, see HistoricalArticleLinks in models.py):

- `snapshot()` is taken when the record is created (the pre-create signal
  below) and taken again by `record_links()` once the admin has saved the
  inlines, which it does after the article itself;
- `describe()` says in words what changed between two versions, with a line
  diff (changed words marked) for long texts;
- `restore_links()` puts a version's links back when an editor reverts to it.

Records made before links were kept have `links = None`: their link changes
are unknown, so none are listed, and reverting to them leaves links alone.
"""

import difflib
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.dispatch import receiver
from django.utils import formats, timezone
from django.utils.text import capfirst
from simple_history.signals import pre_create_historical_record

from .models import Article, Person, RecommendedArticle, Reference, Topic

HistoricalArticle = Article.history.model

# In the order the History page lists changes; the rest (ids, timestamps,
# the featured image's measured size) are not news to an editor.
DESCRIBED_FIELDS = [
    "title",
    "slug",
    "kind",
    "summary",
    "body",
    "status",
    "published_at",
    "author",
    "pinned",
    "allow_comments",
    "featured_image",
    "featured_image_alt",
    "medical",
    "next_review_due",
    "disclaimer",
]
# Texts shown as a line diff rather than "old → new" once they are this long or span lines.
LONG_TEXT = 160
DIFF_CONTEXT = 2
REFERENCE_FIELDS = ("title", "url", "doi", "pubmed_id")


def snapshot(article):
    """The article's recommended articles, references and topics, as a version keeps them."""
    links = article.recommendation_links.select_related("recommended").order_by("position", "id")
    return {
        "recommended": [
            {"id": link.recommended_id, "title": link.recommended.title} for link in links
        ],
        "references": [
            {"id": reference.id, **{name: getattr(reference, name) for name in REFERENCE_FIELDS}}
            for reference in article.references.order_by("position", "id")
        ],
        "topics": [
            {"id": topic.id, "name": topic.name} for topic in article.topics.order_by("name")
        ],
    }


@receiver(pre_create_historical_record, sender=HistoricalArticle)
def _keep_links_with_the_version(sender, instance, history_instance, **kwargs):
    history_instance.links = snapshot(instance)


def latest_version(article):
    return article.history.order_by("-history_date", "-history_id").first()


def record_links(article):
    """Store the article's links on its newest version (after the admin saved the inlines)."""
    version = latest_version(article)
    if version is not None:
        HistoricalArticle.objects.filter(pk=version.pk).update(links=snapshot(article))


# --- what changed -----------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    text: str
    changed: bool = False


@dataclass(frozen=True)
class DiffLine:
    sign: str  # " ", "-" or "+"
    segments: tuple

    @property
    def kind(self):
        return {" ": "same", "-": "removed", "+": "added"}[self.sign]


@dataclass(frozen=True)
class Hunk:
    old_start: int
    new_start: int
    lines: tuple


@dataclass(frozen=True)
class Change:
    """One line of the Changes column: "Title: “old” → “new”", "Recommended: removed “X”", or a diff."""

    label: str
    text: str = ""
    old: str | None = None
    new: str | None = None
    diff: tuple = field(default=())


_WORDS = re.compile(r"\s+|\w+|[^\w\s]")


def _marked(old_line, new_line):
    """The two lines split into segments, with the words that differ marked."""
    old_words, new_words = _WORDS.findall(old_line), _WORDS.findall(new_line)
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    old_segments, new_segments = [], []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        changed = tag != "equal"
        if i2 > i1:
            old_segments.append(Segment("".join(old_words[i1:i2]), changed))
        if j2 > j1:
            new_segments.append(Segment("".join(new_words[j1:j2]), changed))
    return tuple(old_segments), tuple(new_segments)


def line_diff(old, new, context=DIFF_CONTEXT):
    """Hunks of a line diff of two texts, the changed words marked in lines that were edited."""
    old_lines, new_lines = (old or "").splitlines(), (new or "").splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    hunks = []
    for group in matcher.get_grouped_opcodes(context):
        lines = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [DiffLine(" ", (Segment(line),)) for line in old_lines[i1:i2]]
                continue
            removed, added = old_lines[i1:i2], new_lines[j1:j2]
            if tag == "replace" and len(removed) == len(added):
                pairs = [_marked(a, b) for a, b in zip(removed, added, strict=True)]
                lines += [DiffLine("-", old_segments) for old_segments, _ in pairs]
                lines += [DiffLine("+", new_segments) for _, new_segments in pairs]
            else:
                lines += [DiffLine("-", (Segment(line, True),)) for line in removed]
                lines += [DiffLine("+", (Segment(line, True),)) for line in added]
        hunks.append(Hunk(group[0][1] + 1, group[0][3] + 1, tuple(lines)))
    return tuple(hunks)


def _field_label(name):
    return capfirst(Article._meta.get_field(name).verbose_name)


def _same(name, old, new):
    if name == "published_at" and old is not None and new is not None:
        # Versions saved before published_at was kept to the second differ by microseconds only.
        return old.replace(microsecond=0) == new.replace(microsecond=0)
    return old == new


def _shown(name, value, people):
    if value in (None, ""):
        return "(empty)"
    if name == "author":
        person = people.get(value)
        return person.name if person else "a deleted person"
    if name == "status":
        return Article.Status(value).label
    if name == "kind":
        return Article.Kind(value).label
    if isinstance(value, bool):
        return "on" if value else "off"
    if name == "published_at":
        return formats.date_format(timezone.localtime(value), "j F Y, H:i:s")
    if name == "next_review_due":
        return formats.date_format(value, "j F Y")
    return str(value)


def _field_changes(new, old, people):
    changes = []
    for name in DESCRIBED_FIELDS:
        attname = Article._meta.get_field(name).attname
        before, after = getattr(old, attname), getattr(new, attname)
        if name == "featured_image":
            before, after = str(before or ""), str(after or "")
        if _same(name, before, after):
            continue
        label = _field_label(name)
        if name == "featured_image":
            text = "added" if not before else "removed" if not after else "replaced"
            changes.append(Change(label, text=text))
        elif (
            isinstance(before, str)
            and isinstance(after, str)
            and ("\n" in before + after or max(len(before), len(after)) > LONG_TEXT)
        ):
            changes.append(Change(label, diff=line_diff(before, after)))
        else:
            changes.append(
                Change(label, old=_shown(name, before, people), new=_shown(name, after, people))
            )
    return changes


def _quoted(names):
    return ", ".join(f"“{name}”" for name in names)


def _list_changes(label, old_items, new_items, name_of, edited=None):
    old_by_id = {item["id"]: item for item in old_items}
    new_by_id = {item["id"]: item for item in new_items}
    changes = []
    added = [name_of(item) for item in new_items if item["id"] not in old_by_id]
    removed = [name_of(item) for item in old_items if item["id"] not in new_by_id]
    if added:
        changes.append(Change(label, text=f"added {_quoted(added)}"))
    if removed:
        changes.append(Change(label, text=f"removed {_quoted(removed)}"))
    if edited:
        changed = [
            name_of(item)
            for item in new_items
            if item["id"] in old_by_id and edited(old_by_id[item["id"]], item)
        ]
        if changed:
            changes.append(Change(label, text=f"edited {_quoted(changed)}"))
    kept_old = [item["id"] for item in old_items if item["id"] in new_by_id]
    kept_new = [item["id"] for item in new_items if item["id"] in old_by_id]
    if kept_old != kept_new:
        changes.append(Change(label, text="order changed"))
    return changes


def _link_changes(new_links, old_links):
    if new_links is None or old_links is None:
        return []  # a version from before links were kept: unknown, not "all removed"
    return [
        *_list_changes(
            "Recommended",
            old_links.get("recommended", []),
            new_links.get("recommended", []),
            lambda item: item["title"],
        ),
        *_list_changes(
            "References",
            old_links.get("references", []),
            new_links.get("references", []),
            lambda item: item["title"],
            edited=lambda a, b: any(a.get(name) != b.get(name) for name in REFERENCE_FIELDS),
        ),
        *_list_changes(
            "Topics",
            old_links.get("topics", []),
            new_links.get("topics", []),
            lambda item: item["name"],
        ),
    ]


def describe(new, old, people=None):
    """What changed from version `old` to version `new`, as a list of Change."""
    if people is None:
        people = Person.objects.in_bulk(
            {version.author_id for version in (new, old) if version.author_id}
        )
    return _field_changes(new, old, people) + _link_changes(new.links, old.links)


def describe_versions(versions):
    """Set `changes` on each version (newest first), compared with the one before it.

    Takes one query for the version before the oldest one given, and one for
    the authors' names, whatever the number of versions.
    """
    versions = list(versions)
    if not versions:
        return versions
    before_oldest = (
        HistoricalArticle.objects.filter(id=versions[-1].id)
        .filter(history_date__lt=versions[-1].history_date)
        .order_by("-history_date", "-history_id")
        .first()
    )
    pairs = list(zip(versions, [*versions[1:], before_oldest], strict=True))
    author_ids = {v.author_id for pair in pairs for v in pair if v is not None and v.author_id}
    people = Person.objects.in_bulk(author_ids)
    for version, previous in pairs:
        version.changes = [] if previous is None else describe(version, previous, people)
    return versions


def links_summary(version):
    """What reverting to `version` does to the links, in words; None when it does not know."""
    links = version.links
    if links is None:
        return None
    return {
        "recommended": [item["title"] for item in links.get("recommended", [])],
        "references": [item["title"] for item in links.get("references", [])],
        "topics": [item["name"] for item in links.get("topics", [])],
    }


# --- reverting ---------------------------------------------------------------


@transaction.atomic
def restore_links(article, version):
    """Give `article` the recommended articles, references and topics of `version`.

    Returns the titles of recommended articles and the names of topics that
    no longer exist and so could not be restored.
    """
    links = version.links
    if links is None:
        return []
    missing = []

    wanted = [item for item in links.get("recommended", []) if item["id"] != article.pk]
    existing = set(
        Article.objects.filter(pk__in=[item["id"] for item in wanted]).values_list("pk", flat=True)
    )
    article.recommendation_links.all().delete()
    RecommendedArticle.objects.bulk_create(
        RecommendedArticle(article=article, recommended_id=item["id"], position=position)
        for position, item in enumerate(
            (item for item in wanted if item["id"] in existing), start=1
        )
    )
    missing += [item["title"] for item in wanted if item["id"] not in existing]

    _restore_references(article, links.get("references", []))

    topics = links.get("topics", [])
    present = Topic.objects.in_bulk([item["id"] for item in topics])
    article.topics.set(present.values())
    missing += [item["name"] for item in topics if item["id"] not in present]
    return missing


def _restore_references(article, items):
    """The version's references, keeping their ids, so that later diffs compare like with like."""
    wanted_ids = [item["id"] for item in items]
    article.references.exclude(pk__in=wanted_ids).delete()
    # An id now used by another article's reference (it cannot be, ids are never reused,
    # but a restored database might) gets a new reference instead.
    taken = set(
        Reference.objects.filter(pk__in=wanted_ids)
        .exclude(article=article)
        .values_list("pk", flat=True)
    )
    for position, item in enumerate(items, start=1):
        fields = {name: item.get(name, "") for name in REFERENCE_FIELDS}
        if item["id"] in taken:
            Reference.objects.create(article=article, position=position, **fields)
        else:
            Reference.objects.update_or_create(
                pk=item["id"], defaults={"article": article, "position": position, **fields}
            )
