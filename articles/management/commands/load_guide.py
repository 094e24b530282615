"""Publish the isotretinoin guide and its two companion site pages.

On a site where the guide exists, a run changes nothing at all (its text,
byline, pin and recommended articles stay as editors left them) unless
--reset is given, and says so.

The guide is medical content published as the site owner supplied it, by
the editorial team and with no reviewer: that is the truth, so the command
records it as published without a medical review (like a superuser's
override), and the page says it has not yet been reviewed until a reviewer
records a review through the workflow.
"""

from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction

from articles.history import record_links
from articles.models import Article, Person, RecommendedArticle
from articles.review_workflow import (
    discard_revision,
    pending_revision,
    record_unreviewed_publication,
    record_unreviewed_update,
)

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
GUIDE_SLUG = "isotretinoin-journey-20-mg-40-mg-and-beyond"
UNREVIEWED_PUBLICATION = "Published by load_guide, as supplied, without a medical review"


@dataclass(frozen=True)
class Shipped:
    slug: str
    title: str
    summary: str
    source: str
    kind: str = Article.Kind.ARTICLE

    @property
    def body(self):
        return (CONTENT_DIR / self.source).read_text(encoding="utf-8")

    def fields(self):
        """The fields as shipped: published, by the editorial team; the guide pinned, pages without comments."""
        is_page = self.kind == Article.Kind.PAGE
        return {
            "title": self.title,
            "summary": self.summary,
            "body": self.body,
            "kind": self.kind,
            "status": Article.Status.PUBLISHED,
            "author": Person.objects.editorial_team(),
            "medical": not is_page,
            "pinned": not is_page,
            "allow_comments": not is_page,
        }


GUIDE = Shipped(
    slug=GUIDE_SLUG,
    title="The Isotretinoin Journey: 20 mg, 40 mg, and Beyond",
    summary=(
        "How isotretinoin treats severe acne, and how the 20 mg and 40 mg doses compare "
        "in effectiveness, side effects and treatment length."
    ),
    source="isotretinoin-journey.md",
)
COMPANIONS = [
    Shipped(
        slug="how-we-review-medical-content",
        title="How we review medical content",
        summary="Who checks our health articles, what a review involves, and how you can tell "
        "when an article was last reviewed.",
        source="how-we-review-medical-content.md",
        kind=Article.Kind.PAGE,
    ),
    Shipped(
        slug="how-comments-are-moderated",
        title="How comments are moderated",
        summary="Every reply is read by a moderator before it appears. What we ask of "
        "commenters, and what happens to your email address.",
        source="how-comments-are-moderated.md",
        kind=Article.Kind.PAGE,
    ),
]


class Command(BaseCommand):
    help = (
        "Publish the isotretinoin guide (pinned to the top of the home page) and its two "
        "companion site pages, recommended from it. Where the guide exists nothing is changed, "
        "links included, unless --reset is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Put the shipped guide and pages back as shipped (text, byline, pin, comments) "
            "and make the guide recommend exactly the two pages again.",
        )

    @transaction.atomic
    def handle(self, *args, reset=False, **options):
        guide = Article.objects.filter(slug=GUIDE.slug).first()
        if guide is not None and not reset:
            self.stdout.write(
                f"“{guide}” exists: nothing was changed, so editors' changes to the guide, "
                "its pages and its recommended articles are kept (--reset restores them as shipped)."
            )
        elif guide is None:
            guide = self.publish_fresh()
        else:
            self.reset(guide)
        self.stdout.write(self.style.SUCCESS(f"The guide is at {guide.get_absolute_url()}"))

    def publish_fresh(self):
        pages = []
        for shipped in COMPANIONS:
            page = Article.objects.filter(slug=shipped.slug).first()
            if page is None:
                page = self.create(shipped)
            else:
                self.stdout.write(f"“{page}” exists; left as it is.")
            pages.append(page)
        guide = self.create(GUIDE)
        RecommendedArticle.objects.bulk_create(
            RecommendedArticle(article=guide, recommended=page, position=position)
            for position, page in enumerate(pages, start=1)
        )
        record_links(guide)
        self.stdout.write(f"The guide recommends {self.titles(pages)}.")
        return guide

    def create(self, shipped):
        article = Article(slug=shipped.slug, **shipped.fields())
        article._change_reason = (
            "Published by load_guide" if article.is_page else UNREVIEWED_PUBLICATION
        )
        article.save()
        what = "site page" if article.is_page else "article, pinned to the top of the home page"
        self.stdout.write(f"Published “{article}” ({what}).")
        if article.medical:
            record_unreviewed_publication(article, override=True, note=UNREVIEWED_PUBLICATION)
            self.stdout.write(
                "It is published without a medical review, and says so: ask a medical reviewer "
                "to review it (admin: the article's “Request medical review”)."
            )
        return article

    def reset(self, guide):
        pages = [
            self.restore(shipped, Article.objects.filter(slug=shipped.slug).first())
            for shipped in COMPANIONS
        ]
        wanted = [page.pk for page in pages]
        current = list(
            guide.recommendation_links.order_by("position", "id").values_list(
                "recommended_id", flat=True
            )
        )
        if current != wanted:
            guide.recommendation_links.all().delete()
            RecommendedArticle.objects.bulk_create(
                RecommendedArticle(article=guide, recommended=page, position=position)
                for position, page in enumerate(pages, start=1)
            )
            self.stdout.write(f"The guide recommends {self.titles(pages)} again.")
        # Saved after its links, so that its new version records them.
        self.restore(GUIDE, guide, links_changed=current != wanted)

    def restore(self, shipped, article, links_changed=False):
        if article is None:
            return self.create(shipped)
        pending = pending_revision(article)
        if pending is not None:
            discard_revision(pending)
            self.stdout.write(f"Discarded the changes to “{article}” that were waiting for review.")
        wanted = shipped.fields()
        changed = [name for name, value in wanted.items() if getattr(article, name) != value]
        if not changed and not links_changed:
            self.stdout.write(f"“{article}” is as shipped.")
            return article
        text_before = article.text_digest
        for name in changed:
            setattr(article, name, wanted[name])
        article._change_reason = "Reset by load_guide --reset"
        article.save()
        if changed:
            self.stdout.write(f"Reset “{article}”: {', '.join(changed)}.")
        if article.medical and article.text_digest != text_before and not article.text_is_reviewed:
            record_unreviewed_update(
                article, override=True, note="Text reset by load_guide --reset, not reviewed"
            )
        return article

    @staticmethod
    def titles(pages):
        return " and ".join(f"“{page}”" for page in pages)
