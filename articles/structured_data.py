"""Absolute addresses on the public site, and the JSON-LD that describes an article.

Everything here is built from the article, its references, the people who
wrote and reviewed it and SITE_URL: no comment, commenter or request data, and
no staff account (username, email), ever reaches it.
"""

import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from site_project.context_processors import SITE_NAME
from site_project.dates import iso_datetime

from .reviews import review_status

# What json_script escapes: "</script>" or "<!--" in a title cannot end the script element.
_SCRIPT_SAFE = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def absolute_url(path):
    """`path` on the public site (SITE_URL), whatever host name the request used."""
    return f"{settings.SITE_URL}{path}"


def _language_tag(code):
    """Django's "en-gb" as the BCP 47 tag schema.org expects, "en-GB"."""
    language, _, region = code.partition("-")
    return f"{language}-{region.upper()}" if region else language


def _organisation():
    home = absolute_url(reverse("articles:list"))
    return {"@type": "Organization", "name": SITE_NAME, "url": home}


def person_reference(person):
    """A Person (or, for the editorial team, an Organization) as another page names them."""
    data = {
        "@type": "Organization" if person.is_team else "Person",
        "name": person.name,
        "url": absolute_url(person.get_absolute_url()),
    }
    if not person.is_team:
        data.update(jobTitle=person.role or None, honorificSuffix=person.credentials or None)
    return {key: value for key, value in data.items() if value}


def person_structured_data(person):
    """schema.org Person (the editorial team: Organization) for a person's own page."""
    url = absolute_url(person.get_absolute_url())
    data = {
        "@context": "https://schema.org",
        **person_reference(person),
        "mainEntityOfPage": url,
        "description": person.bio.strip() or None,
        "image": absolute_url(person.photo.url) if person.photo else None,
        "sameAs": person.same_as or None,
    }
    if person.registration:
        data["hasCredential"] = {
            key: value
            for key, value in {
                "@type": "EducationalOccupationalCredential",
                "credentialCategory": "Professional registration",
                "name": person.registration,
                "url": person.registration_url or None,
            }.items()
            if value
        }
    if person.is_team:
        data["parentOrganization"] = _organisation()
    return {key: value for key, value in data.items() if value not in (None, "", [])}


def _citation(reference):
    citation = {"@type": "CreativeWork", "name": reference.title, "url": reference.url}
    same_as = [url for url in (reference.doi_url, reference.pubmed_url) if url]
    if same_as:
        citation["sameAs"] = same_as
    return citation


def article_structured_data(article, review=None):
    """A schema.org MedicalWebPage (with Article's fields) for `article`, as a dict.

    `lastReviewed` and `reviewedBy` describe a review only while the current
    text is the text reviewed (articles/reviews.py review_status; `review`
    when the caller has it already).
    """
    url = absolute_url(article.get_absolute_url())
    review = review or review_status(article)
    reviewed = review is not None and review.is_reviewed
    data = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage" if article.medical else "Article",
        "url": url,
        "mainEntityOfPage": url,
        "headline": article.title,
        "name": article.title,
        "description": article.summary,
        "image": absolute_url(article.featured_image.url) if article.featured_image else None,
        "inLanguage": _language_tag(settings.LANGUAGE_CODE),
        "author": person_reference(article.author),
        "publisher": _organisation(),
        "datePublished": iso_datetime(article.published_at) or None,
        "dateModified": iso_datetime(article.updated_at) or None,
        "lastReviewed": iso_datetime(review.reviewed_on) if reviewed else None,
        "reviewedBy": person_reference(review.reviewer) if reviewed else None,
        "keywords": [topic.name for topic in article.topics.all()],
        "citation": [_citation(reference) for reference in article.references.all()],
    }
    return {key: value for key, value in data.items() if value not in (None, "", [])}


def json_ld_script(data):
    """`data` as a <script type="application/ld+json"> element that nothing can break out of."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_SCRIPT_SAFE)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))
