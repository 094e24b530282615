from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from markdownx.models import MarkdownxField
from simple_history.models import HistoricalRecords

from .markdown import render

DEFAULT_DISCLAIMER = (
    "This article is general information, not medical advice. Talk to your dermatologist "
    "before starting, changing or stopping a treatment."
)


class TopicQuerySet(models.QuerySet):
    def with_article_counts(self):
        """Topics with their kept count of published articles (scheduled ones included).

        articles/browse.py subtracts the scheduled ones still to come: what
        readers see is browse.topics().
        """
        return self.filter(tally__published__gt=0).annotate(
            published_count=F("tally__published")
        )


class Topic(models.Model):
    """A subject readers can browse by, e.g. “Side effects”."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(
        max_length=100, unique=True, help_text="The address of the topic page: /topics/<slug>/."
    )
    description = models.TextField(
        blank=True, help_text="Plain text, one or two sentences shown on the topic page."
    )

    objects = TopicQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:topic", kwargs={"slug": self.slug})


class ArticleQuerySet(models.QuerySet):
    def published(self):
        """What the public may see: published, and its publication time has come."""
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=timezone.now())

    def scheduled(self):
        """Published, but their publication time has not come yet: the rest of published()'s rule."""
        return self.filter(status=Article.Status.PUBLISHED, published_at__gt=timezone.now())

    def published_or_scheduled(self):
        """published() and scheduled() together: what the kept browse figures count."""
        return self.filter(status=Article.Status.PUBLISHED, published_at__isnull=False)

    def review_overdue(self, today=None):
        return self.filter(next_review_due__lt=today or timezone.localdate())


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=200,
        unique=True,
        help_text="The address of the article: /articles/<slug>/. Old addresses keep working.",
    )
    summary = models.TextField(
        max_length=300,
        help_text="Plain text, one or two sentences: the meta description and the list teaser.",
    )
    body = MarkdownxField(help_text="Markdown. The preview shows exactly what readers will see.")
    body_html = models.TextField(editable=False, default="")
    toc_html = models.TextField(editable=False, default="")
    reading_minutes = models.PositiveSmallIntegerField(editable=False, default=1)

    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    published_at = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="A future date schedules the article: it appears by itself at that time.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
        limit_choices_to={"is_staff": True},
    )

    reviewed_by = models.CharField(
        max_length=200,
        blank=True,
        help_text="Name and credentials of the medical reviewer, e.g. “Dr A. Smith, MD, FAAD”.",
    )
    last_reviewed_on = models.DateField(null=True, blank=True)
    next_review_due = models.DateField(null=True, blank=True, db_index=True)

    allow_comments = models.BooleanField(
        default=True, help_text="Untick to close the comments on this article."
    )
    disclaimer = models.TextField(
        blank=True,
        default=DEFAULT_DISCLAIMER,
        help_text="Shown near the top of the article. Leave empty for the standard disclaimer.",
    )
    topics = models.ManyToManyField(Topic, blank=True, related_name="articles")

    recommended = models.ManyToManyField(
        "self",
        through="RecommendedArticle",
        through_fields=("article", "recommended"),
        symmetrical=False,
        related_name="recommended_by",
        blank=True,
    )

    history = HistoricalRecords(
        excluded_fields=["body_html", "toc_html", "reading_minutes"]
    )

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [
            # Serves published() newest first to the end from the index alone: the
            # list, its count and deep pages, the scheduled articles, and the
            # latest change (updated_at) for the sitemap.
            models.Index(
                fields=["status", "published_at", "id", "updated_at"], name="article_published_idx"
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("articles:detail", kwargs={"slug": self.slug})

    @property
    def is_published(self):
        return (
            self.status == self.Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    @property
    def is_scheduled(self):
        return self.status == self.Status.PUBLISHED and not self.is_published

    @property
    def disclaimer_text(self):
        return self.disclaimer.strip() or DEFAULT_DISCLAIMER

    @property
    def review_overdue(self):
        return self.next_review_due is not None and self.next_review_due < timezone.localdate()

    def save(self, *args, **kwargs):
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        rendered = render(self.body)
        self.body_html = rendered.html
        self.toc_html = rendered.toc_html
        self.reading_minutes = rendered.reading_minutes
        super().save(*args, **kwargs)

    def publish(self):
        """Publish now; an earlier publication date is kept, a scheduled one brought forward."""
        now = timezone.now()
        self.status = self.Status.PUBLISHED
        if self.published_at is None or self.published_at > now:
            self.published_at = now
        self.save()

    def unpublish(self):
        self.status = self.Status.DRAFT
        self.save()

    def published_recommendations(self):
        """Recommended articles the public may see, in the editor's order."""
        return (
            Article.objects.published()
            .filter(recommended_by_links__article=self)
            .order_by("recommended_by_links__position", "recommended_by_links__id")
        )


class RecommendedArticle(models.Model):
    """An editor's ordered pick of another article to read next."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="recommendation_links")
    recommended = models.ForeignKey(
        Article,
        on_delete=models.CASCADE,
        related_name="recommended_by_links",
        verbose_name="recommended article",
    )
    position = models.PositiveIntegerField(default=0, db_index=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "recommended article"
        constraints = [
            models.UniqueConstraint(
                fields=["article", "recommended"],
                name="unique_recommendation",
                violation_error_message="This article is already recommended here.",
            ),
            models.CheckConstraint(
                condition=~Q(article=F("recommended")),
                name="no_self_recommendation",
                violation_error_message="An article cannot recommend itself.",
            ),
        ]

    def __str__(self):
        return f"{self.article} → {self.recommended}"

    def clean(self):
        if self.article_id and self.article_id == self.recommended_id:
            raise ValidationError({"recommended": "An article cannot recommend itself."})


class Reference(models.Model):
    """A source an article cites, listed under it and in its structured data."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="references")
    title = models.CharField(
        max_length=500, help_text="As it should be cited: authors, title, journal, year."
    )
    url = models.URLField(
        "URL", max_length=500, validators=[URLValidator(schemes=["http", "https"])]
    )
    doi = models.CharField(
        "DOI",
        max_length=200,
        blank=True,
        validators=[
            RegexValidator(
                r"^10\.\d{4,9}/\S+$", "A DOI looks like 10.1001/jamadermatol.2019.1234."
            )
        ],
    )
    pubmed_id = models.CharField(
        "PubMed ID",
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^[1-9]\d{0,9}$", "A PubMed ID is a number, e.g. 31017924.")],
    )
    position = models.PositiveIntegerField(default=0, db_index=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.title

    @property
    def doi_url(self):
        return f"https://doi.org/{quote(self.doi, safe='/:;()._-')}" if self.doi else ""

    @property
    def pubmed_url(self):
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pubmed_id}/" if self.pubmed_id else ""


# Figures for browsing (articles/browse.py): counts kept up to date when an
# article or its topics change, so that the list page and /topics/ never
# count every article. They count articles with the published status,
# scheduled ones included; the few scheduled ones are subtracted when read,
# so an article that comes due needs no job to be counted.


class ArchiveMonth(models.Model):
    """How many articles have the published status in a month (site time zone)."""

    month = models.DateField(primary_key=True)
    published = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-month"]

    def __str__(self):
        return f"{self.month:%B %Y}: {self.published}"


class TopicArticleCount(models.Model):
    """How many articles with the published status a topic holds."""

    topic = models.OneToOneField(
        Topic, primary_key=True, on_delete=models.CASCADE, related_name="tally"
    )
    published = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.topic_id}: {self.published}"
