"""Reader text as HTML: escaped, line breaks kept, web links clickable."""

from django.utils.html import Urlizer
from django.utils.safestring import mark_safe
from django.utils.text import normalize_newlines

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
