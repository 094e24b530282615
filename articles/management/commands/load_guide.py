"""Publish the isotretinoin guide and its two companion pages; a second run changes nothing."""

from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction

from articles.models import Article, RecommendedArticle

CONTENT_DIR = Path(__file__).resolve().parents[2] / "content"
GUIDE_SLUG = "isotretinoin-journey-20-mg-40-mg-and-beyond"


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    summary: str
    source: str

    @property
    def body(self):
        return (CONTENT_DIR / self.source).read_text(encoding="utf-8")


GUIDE = Page(
    slug=GUIDE_SLUG,
    title="The Isotretinoin Journey: 20 mg, 40 mg, and Beyond",
    summary=(
        "How isotretinoin treats severe acne, and how the 20 mg and 40 mg doses compare "
        "in effectiveness, side effects and treatment length."
    ),
    source="isotretinoin-journey.md",
)
COMPANIONS = [
    Page(
        slug="how-we-review-medical-content",
        title="How we review medical content",
        summary="Who checks our health articles, what a review involves, and how you can tell "
        "when an article was last reviewed.",
        source="how-we-review-medical-content.md",
    ),
    Page(
        slug="how-comments-are-moderated",
        title="How comments are moderated",
        summary="Every reply is read by a moderator before it appears. What we ask of "
        "commenters, and what happens to your email address.",
        source="how-comments-are-moderated.md",
    ),
]


class Command(BaseCommand):
    help = (
        "Publish the isotretinoin guide and its companion pages. Pages that exist are left "
        "as editors made them unless --reset is given; a second run changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Put the shipped title, summary and text back and publish them again.",
        )

    @transaction.atomic
    def handle(self, *args, reset=False, **options):
        guide = self.publish(GUIDE, reset)
        companions = [self.publish(page, reset) for page in COMPANIONS]
        for position, companion in enumerate(companions):
            link, created = RecommendedArticle.objects.get_or_create(
                article=guide, recommended=companion, defaults={"position": position}
            )
            if created:
                self.stdout.write(f"Recommended “{companion}” from the guide.")
        self.stdout.write(self.style.SUCCESS(f"The guide is at {guide.get_absolute_url()}"))

    def publish(self, page, reset):
        wanted = {
            "title": page.title,
            "summary": page.summary,
            "body": page.body,
            "status": Article.Status.PUBLISHED,
        }
        article = Article.objects.filter(slug=page.slug).first()
        if article is None:
            article = Article.objects.create(slug=page.slug, **wanted)
            self.stdout.write(f"Published “{article}”.")
            return article
        if not reset:
            self.stdout.write(f"“{article}” exists; left as it is (--reset restores it).")
            return article
        changed = [name for name, value in wanted.items() if getattr(article, name) != value]
        if changed:
            for name in changed:
                setattr(article, name, wanted[name])
            article.save()
            self.stdout.write(f"Updated “{article}”: {', '.join(changed)}.")
        else:
            self.stdout.write(f"“{article}” is up to date.")
        return article
