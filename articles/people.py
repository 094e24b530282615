"""People readers can check: who wrote an article, who medically reviewed it.

A Person is public (a page at /people/<slug>/, named in bylines and review
lines); the staff account it may be linked to is not. Nothing here ever shows
a user's username or email address: a page names the person by `name` alone.

"The editorial team" is a Person too, of kind TEAM (JSON-LD Organization):
an article by nobody in particular has it as its author, so every byline
links somewhere and "By the editorial team" is one state, not an empty field.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.text import slugify

from .images import upload_path

EDITORIAL_TEAM_NAME = "The editorial team"
EDITORIAL_TEAM_SLUG = "editorial-team"

_http_url = URLValidator(schemes=["http", "https"])


def photo_path(person, filename):
    # clean_upload() named the file; it lives beside the other images.
    return upload_path(filename)


class PersonQuerySet(models.QuerySet):
    def editorial_team(self):
        """The editorial team, made if a fresh or emptied database lacks it."""
        team = self.filter(kind=Person.Kind.TEAM).first()
        if team is None:
            team, _ = self.get_or_create(
                kind=Person.Kind.TEAM,
                defaults={"name": EDITORIAL_TEAM_NAME, "slug": _free_slug(EDITORIAL_TEAM_SLUG)},
            )
        return team

    def medical_reviewers(self):
        """People who may be asked for a review: linked to an active account in the reviewers group."""
        from .roles import MEDICAL_REVIEWERS

        return self.filter(
            kind=Person.Kind.PERSON,
            user__is_active=True,
            user__groups__name=MEDICAL_REVIEWERS,
        ).distinct()


def _free_slug(wanted):
    slug, n = wanted, 2
    while Person.objects.filter(slug=slug).exists():
        slug, n = f"{wanted}-{n}", n + 1
    return slug


class Person(models.Model):
    """An author or medical reviewer, with a public page."""

    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        TEAM = "team", "The editorial team (an organisation)"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(
        max_length=150, help_text="As readers should see it, e.g. “Dr Ada Smith”."
    )
    slug = models.SlugField(
        max_length=150, unique=True, help_text="The address of their page: /people/<slug>/."
    )
    credentials = models.CharField(
        max_length=100,
        blank=True,
        help_text="Post-nominal letters shown after the name, e.g. “MD, FAAD”.",
    )
    role = models.CharField(
        max_length=150,
        blank=True,
        help_text="What they do, e.g. “Consultant dermatologist” or “Health writer”.",
    )
    bio = models.TextField(
        max_length=1500,
        blank=True,
        help_text="Plain text, a short paragraph or two: training, experience, interests.",
    )
    photo = models.ImageField(
        upload_to=photo_path,
        blank=True,
        width_field="photo_width",
        height_field="photo_height",
        help_text="Optional JPEG or PNG portrait, stored without its metadata.",
    )
    photo_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    photo_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    registration = models.CharField(
        "professional registration",
        max_length=150,
        blank=True,
        help_text="The register and number readers can check, e.g. “GMC 1234567”.",
    )
    registration_url = models.URLField(
        "registration link",
        max_length=500,
        blank=True,
        validators=[_http_url],
        help_text="The entry in the public register, if it has an address.",
    )
    profile_urls = models.TextField(
        "profile links",
        blank=True,
        help_text="Other public profiles (hospital page, ORCID, LinkedIn…), one address a line.",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="person",
        limit_choices_to={"is_staff": True},
        verbose_name="staff account",
        help_text="The account that acts as this person in the admin (a reviewer records their "
        "reviews with it). Never shown on the site.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(kind="team"),
                name="one_editorial_team",
                violation_error_message="There is one editorial team.",
            )
        ]

    def __str__(self):
        return self.name_with_credentials

    def get_absolute_url(self):
        return reverse("articles:person", kwargs={"slug": self.slug})

    @property
    def is_team(self):
        return self.kind == self.Kind.TEAM

    @property
    def name_with_credentials(self):
        return f"{self.name}, {self.credentials}" if self.credentials else self.name

    @property
    def byline_name(self):
        """The name inside a sentence: “By the editorial team”, “By Dr Ada Smith”."""
        if self.is_team and self.name.startswith("The "):
            return "the " + self.name[4:]
        return self.name

    @property
    def profile_links(self):
        """(address, host name) for each profile link, in the order given."""
        return [
            (url, urlsplit(url).netloc.removeprefix("www."))
            for url in (line.strip() for line in self.profile_urls.splitlines())
            if url
        ]

    @property
    def same_as(self):
        """Addresses that identify the same person elsewhere (schema.org sameAs)."""
        urls = [self.registration_url] if self.registration_url else []
        return urls + [url for url, _ in self.profile_links if url not in urls]

    def clean(self):
        super().clean()
        errors = []
        for line in self.profile_urls.splitlines():
            url = line.strip()
            if not url:
                continue
            try:
                _http_url(url)
            except ValidationError:
                errors.append(url)
        if errors:
            raise ValidationError(
                {
                    "profile_urls": "Each line must be one web address starting with https:// "
                    "(or http://). Not an address: " + ", ".join(f"“{url}”" for url in errors)
                }
            )

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = _free_slug(slugify(self.name)[:140] or "person")
        super().save(*args, **kwargs)
