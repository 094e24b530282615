"""Reader text as HTML: escaped, line breaks kept, web links clickable."""

from django.utils import dateformat, timezone
from django.utils.html import Urlizer, format_html
from django.utils.safestring import mark_safe
from django.utils.text import normalize_newlines

from site_project.dates import iso_datetime

# Readers' links get no search-engine credit and no access to our page.
READER_LINK_REL = "nofollow ugc noopener noreferrer"


class _ReaderUrlizer(Urlizer):
    url_template = '<a href="{href}" rel="' + READER_LINK_REL + '"{attrs}>{url}</a>'

    def is_email_simple(self, value):
        # Email addresses a reader types stay plain text: no mailto links for harvesters.
        return False


_urlize = _ReaderUrlizer()


def render_comment_text(body):
    """Escape everything, turn http(s)/www links into <a>, keep line breaks."""
    html = _urlize(normalize_newlines(body), trim_url_limit=60, nofollow=False, autoescape=True)
    return mark_safe(html.replace("\n", "<br>"))


def count_links(body):
    """How many links a reader will see in `body` (what render_comment_text links)."""
    return render_comment_text(body).count("<a ")


def commenter_html(name, website):
    """The commenter's name, linked to their website (never to their email)."""
    if website.startswith(("http://", "https://")):
        return format_html(
            '<a class="commenter" href="{}" rel="{}">{}</a>', website, READER_LINK_REL, name
        )
    return format_html('<span class="commenter">{}</span>', name)


STAFF_BADGE = "Editorial team"


# The stored html is BYLINE_START + byline + DATE_PART + BODY_START + text + "</p>".
# The byline (an escaped name and URL) can contain neither marker.
BYLINE_START = '<p class="comment-meta"><span id="comment-{pk}-by">'
DATE_PART_START = '</span> · <a href="#comment-'
BODY_START = '\n<p class="comment-body">'


def comment_html(comment):
    """A comment as every reader sees it: byline, date and text. Stored on save.

    A reply written by staff in the admin carries the editorial badge; it
    comes from `staff_author`, which the public form cannot set, never from
    the name.
    """
    created = timezone.localtime(comment.created_at)
    by = commenter_html(comment.name, comment.website)
    if getattr(comment, "staff_author_id", None):
        by = format_html('{} <span class="staff-badge">{}</span>', by, STAFF_BADGE)
    return format_html(
        BYLINE_START
        + "{by}"
        + DATE_PART_START
        + '{pk}"><time datetime="{iso}">{date}</time></a></p>'
        + BODY_START
        + "{body}</p>",
        pk=comment.pk,
        by=by,
        iso=iso_datetime(created),
        date=dateformat.format(created, "j F Y, H:i"),
        body=render_comment_text(comment.body),
    )


def html_with_new_byline(name, body=None):
    """An expression for the stored html with the byline of `name` (no website) and `body`.

    For erasing a commenter in one UPDATE however many comments they left
    (comments/privacy.py): the date part is kept from the stored html, which
    comment_html() rendered with the comment's own id and time.
    """
    from django.db.models import CharField, F, Value
    from django.db.models.functions import Cast, Concat, StrIndex, Substr

    prefix, suffix = BYLINE_START.split("{pk}")
    date_starts = StrIndex(F("html"), Value(DATE_PART_START))
    if body is None:
        rest = Substr(F("html"), date_starts)
    else:
        date_part = Substr(
            F("html"), date_starts, StrIndex(F("html"), Value(BODY_START)) - date_starts
        )
        rest = Concat(date_part, Value(BODY_START + render_comment_text(body) + "</p>"))
    return Concat(
        Value(prefix),
        Cast(F("pk"), CharField()),
        Value(suffix + commenter_html(name, "")),
        rest,
        output_field=CharField(),
    )
