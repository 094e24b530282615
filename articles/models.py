from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.db.models import F, Q, Value
from django.urls import reverse
from django.utils import timezone
from markdownx.models import MarkdownxField
from simple_history.models import HistoricalRecords

from .images import upload_path
from .markdown import DECORATIVE, Unrenderable, images_without_alt, render, render_checked
from .reviews import text_digest

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
        return self.filter(tally__published__gt=0).annotate(published_count=F("tally__published"))


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
        """What the public may see: published, and its publication time has come (articles and pages)."""
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=timezone.now())

    def listed(self):
        """What the home page, archive, topics, feeds and sitemap list: published articles, not pages."""
        return self.published().filter(kind=Article.Kind.ARTICLE)

    def site_pages(self):
        """Published site pages (about, policies, contact), as the footer links them."""
        return self.published().filter(kind=Article.Kind.PAGE)

    def scheduled(self):
        """Articles (not pages) published for a time still to come: listed() once it comes."""
        return self.filter(
            status=Article.Status.PUBLISHED,
            published_at__gt=timezone.now(),
            kind=Article.Kind.ARTICLE,
        )

    def published_or_scheduled(self):
        """listed() and scheduled() together: what the kept browse figures count."""
        return self.filter(
            status=Article.Status.PUBLISHED,
            published_at__isnull=False,
            kind=Article.Kind.ARTICLE,
        )

    def review_overdue(self, today=None):
        return self.filter(next_review_due__lt=today or timezone.localdate())


def featured_image_path(article, filename):
    # clean_upload() named the file; it lives beside the images of articles' text.
    return upload_path(filename)


class HistoricalArticleLinks(models.Model):
    """What each version of an article links to, kept on its historical record.

    Why a snapshot and not history on RecommendedArticle and Reference: a
    version is then one self-contained record. Reverting to it, or comparing
    two, needs no reconstruction by time across three history tables (the
    admin saves an article a moment before its inlines, so "links as of the
    article's save" is not even well defined), and a recommended article that
    has since been deleted is still named by its title. See articles/history.py.
    """

    links = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        help_text="Recommended articles, references and topics of this version; "
        "empty for versions saved before links were recorded.",
    )

    class Meta:
        abstract = True


# Kept out of the history: a reverted version gets the article's current review state.
REVIEW_STATE_FIELDS = [
    "text_digest",
    "text_updated_at",
    "reviewed_text_digest",
    "last_review",
    "legacy_review_note",
]
# Written only by the review workflow (articles/review_workflow.py), with update():
# save() leaves them alone, so that an instance loaded before a review was recorded
# cannot put the old state back when it is saved.
WORKFLOW_FIELDS = frozenset({"reviewed_text_digest", "last_review", "legacy_review_note"})


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    class Kind(models.TextChoices):
        ARTICLE = "article", "Article"
        PAGE = "page", "Site page"

    kind = models.CharField(
        max_length=10,
        choices=Kind.choices,
        default=Kind.ARTICLE,
        db_index=True,
        help_text="Articles are listed on the home page, in the archive, topics and feeds, with "
        "the medical disclaimer and review status. Site pages (about, policies, contact) are "
        "linked from the footer only, without them.",
    )
    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=200,
        unique=True,
        help_text="The last part of the address: /articles/this-slug/ (a site page: "
        "/pages/this-slug/). Old addresses keep working.",
    )
    summary = models.TextField(
        max_length=300,
        help_text="Plain text, one or two sentences: the meta description and the list teaser.",
    )
    body = MarkdownxField(
        help_text="Markdown. The preview beside it uses the site's own renderer and stylesheet: "
        "it is what readers will see. Every image needs a description for readers who cannot "
        f"see it, ![like this](…); write ![{DECORATIVE}](…) for an image that is only decoration."
    )
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
        "articles.Person",
        on_delete=models.PROTECT,
        related_name="articles",
        help_text="Named in the byline, linked to their page; “The editorial team” signs “By the "
        "editorial team”. Saving never changes it.",
    )
    pinned = models.BooleanField(
        "pin to the top of the home page",
        default=False,
        db_index=True,
        help_text="Pinned articles come first on the home page, newest first.",
    )
    featured_image = models.ImageField(
        upload_to=featured_image_path,
        blank=True,
        width_field="featured_image_width",
        height_field="featured_image_height",
        help_text="Optional JPEG or PNG: shown with the article on the home page and when the "
        "article is shared (at least 1200 px wide looks best). Stored without its metadata.",
    )
    featured_image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    featured_image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    featured_image_alt = models.CharField(
        "featured image description",
        max_length=250,
        blank=True,
        help_text="What the featured image shows, for readers who cannot see it.",
    )

    medical = models.BooleanField(
        "medical content",
        default=True,
        help_text="Health information readers may act on: it is published, and its text changed, "
        "only after a medical reviewer approves that text (site pages never are).",
    )
    next_review_due = models.DateField(null=True, blank=True, db_index=True)
    # The review workflow's state (articles/reviews.py, review_workflow.py): not
    # editable, not in the history (a revert must not bring back an old review).
    text_digest = models.CharField(max_length=64, blank=True, default="", editable=False)
    text_updated_at = models.DateTimeField(null=True, blank=True, editable=False)
    reviewed_text_digest = models.CharField(max_length=64, blank=True, default="", editable=False)
    last_review = models.ForeignKey(
        "articles.MedicalReview",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        editable=False,
        related_name="+",
    )
    legacy_review_note = models.TextField(
        blank=True,
        editable=False,
        help_text="What the free-text reviewer fields said before reviews were recorded: "
        "not a verified review.",
    )

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
        bases=[HistoricalArticleLinks],
        excluded_fields=[
            "body_html",
            "toc_html",
            "reading_minutes",
            *REVIEW_STATE_FIELDS,
        ],
    )

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [
            # Serves listed(), site_pages() and scheduled() in publication order
            # from the index alone: feeds, archives, the list's count, the
            # sitemap and its latest change (updated_at), the footer's pages.
            models.Index(
                fields=["status", "kind", "published_at", "id", "updated_at"],
                name="article_listed_idx",
            ),
            # The home page: pinned articles first, then newest first, to the
            # deepest page from the index alone.
            models.Index(
                fields=["status", "kind", "pinned", "published_at", "id"],
                name="article_home_idx",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        name = "articles:page" if self.is_page else "articles:detail"
        return reverse(name, kwargs={"slug": self.slug})

    @property
    def is_page(self):
        return self.kind == self.Kind.PAGE

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

    @property
    def current_text_digest(self):
        """The digest of the title, summary and body as they are on this instance."""
        return text_digest(self.title, self.summary, self.body)

    @property
    def text_is_reviewed(self):
        """Whether a reviewer covered exactly the current title, summary and body."""
        return (
            bool(self.reviewed_text_digest)
            and self.reviewed_text_digest == self.current_text_digest
        )

    def clean(self):
        super().clean()
        errors = {}
        # Before save(): too long, or too costly to render. The render is kept
        # for save(), so that a body is rendered once however it is checked.
        try:
            self._checked_render = (self.body, render_checked(self.body))
        except Unrenderable as refusal:
            errors["body"] = str(refusal)
        # Only text that renders in time is looked at again for its images.
        missing = images_without_alt(self.body) if "body" not in errors else []
        if missing:
            names = ", ".join(f"“{name}”" for name in missing)
            errors["body"] = (
                f"Describe every image for readers who cannot see it. No alternative text: {names}. "
                "Write the description between the square brackets, ![like this](…), or "
                f"![{DECORATIVE}](…) for an image that is only decoration."
            )
        if self.featured_image and not self.featured_image_alt.strip():
            errors["featured_image_alt"] = (
                "Describe the featured image for readers who cannot see it (it goes with the "
                "article when it is shared)."
            )
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        if self.status == self.Status.PUBLISHED and self.published_at is None:
            self.published_at = _now_to_the_second()
        if self.author_id is None:
            # Set once, when the article is made without one; saving never changes an author.
            from .people import Person

            self.author = Person.objects.editorial_team()
        digest = self.current_text_digest
        if digest != self.text_digest:
            self.text_digest = digest
            self.text_updated_at = _now_to_the_second()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {
                    *kwargs["update_fields"],
                    "text_digest",
                    "text_updated_at",
                }
        checked = getattr(self, "_checked_render", None)
        rendered = checked[1] if checked and checked[0] == self.body else render(self.body)
        self.body_html = rendered.html
        self.toc_html = rendered.toc_html
        self.reading_minutes = rendered.reading_minutes
        loaded = (
            not self._state.adding and self._state.db is not None
        )  # a row read from the database
        if loaded and not args and not kwargs.get("force_insert"):
            if kwargs.get("update_fields") is None:
                kwargs["update_fields"] = [
                    field.name
                    for field in self._meta.concrete_fields
                    if not field.primary_key and field.name not in WORKFLOW_FIELDS
                ]
        super().save(*args, **kwargs)

    def publish(self):
        """Publish now; an earlier publication date is kept, a scheduled one brought forward."""
        now = _now_to_the_second()
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

    def recommendations_and_site_pages(self):
        """(published_recommendations(), the published site pages): what this page links to.

        One query (a UNION) for both: the article page's query budget holds
        its recommendations and the footer's site pages together.
        """
        shown = ("title", "slug", "kind", "summary")
        recommended = (
            self.published_recommendations()
            .order_by()
            .annotate(
                link_position=F("recommended_by_links__position"),
                link_id=F("recommended_by_links__id"),
            )
            .only(*shown)
        )
        pages = (
            Article.objects.site_pages()
            .order_by()
            .annotate(
                link_position=Value(None, output_field=models.IntegerField()),
                link_id=Value(None, output_field=models.BigIntegerField()),
            )
            .only(*shown)
        )
        rows = list(recommended.union(pages, all=True))
        links = sorted(
            (row for row in rows if row.link_id is not None),
            key=lambda row: (row.link_position, row.link_id),
        )
        site_pages = sorted((row for row in rows if row.link_id is None), key=lambda row: row.title)
        return links, site_pages


def _now_to_the_second():
    # The admin's date and time fields show seconds: a published_at with
    # microseconds would change at an editor's next save, a change to nobody.
    return timezone.now().replace(microsecond=0)


class RecommendedArticle(models.Model):
    """An editor's ordered pick of another article to read next."""

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="recommendation_links"
    )
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
            RegexValidator(r"^10\.\d{4,9}/\S+$", "A DOI looks like 10.1001/jamadermatol.2019.1234.")
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


# The people and review models live in their own modules; importing them here
# registers them with the app, as if they were defined in this file.
from .people import Person  # noqa: E402, F401
from .reviews import MedicalReview, ReviewHistoryEntry, Revision  # noqa: E402, F401
