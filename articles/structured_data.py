"""Absolute addresses on the public site, and the JSON-LD that describes an article.

Everything here is built from the article, its references and SITE_URL: no
comment, commenter or request data ever reaches it.
"""

import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from site_project.context_processors import SITE_NAME
from site_project.dates import iso_datetime

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


def _author(article):
    if article.author is None:
        return _organisation()
    return {
        "@type": "Person",
        "name": article.author.get_full_name() or article.author.get_username(),
    }


def _citation(reference):
    citation = {"@type": "CreativeWork", "name": reference.title, "url": reference.url}
    same_as = [url for url in (reference.doi_url, reference.pubmed_url) if url]
    if same_as:
        citation["sameAs"] = same_as
    return citation


def article_structured_data(article):
    """A schema.org MedicalWebPage (with Article's fields) for `article`, as a dict."""
    url = absolute_url(article.get_absolute_url())
    data = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "url": url,
        "mainEntityOfPage": url,
        "headline": article.title,
        "name": article.title,
        "description": article.summary,
        "image": absolute_url(article.featured_image.url) if article.featured_image else None,
        "inLanguage": _language_tag(settings.LANGUAGE_CODE),
        "author": _author(article),
        "publisher": _organisation(),
        "datePublished": iso_datetime(article.published_at) or None,
        "dateModified": iso_datetime(article.updated_at) or None,
        "lastReviewed": iso_datetime(article.last_reviewed_on) or None,
        "reviewedBy": (
            {"@type": "Person", "name": article.reviewed_by} if article.reviewed_by else None
        ),
        "keywords": [topic.name for topic in article.topics.all()],
        "citation": [_citation(reference) for reference in article.references.all()],
    }
    return {key: value for key, value in data.items() if value not in (None, "", [])}


def json_ld_script(data):
    """`data` as a <script type="application/ld+json"> element that nothing can break out of."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_SCRIPT_SAFE)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))
