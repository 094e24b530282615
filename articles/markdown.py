"""The one Markdown renderer: what the admin preview shows is what readers get.

Python-Markdown renders; nh3 then keeps only the allow-listed tags, attributes
and URL schemes below, so no <script>, event handler, style or javascript: URL
survives whatever an editor types.
"""

import math
import re
from dataclasses import dataclass

import markdown
import nh3

EXTENSIONS = [
    "toc",
    "tables",
    "fenced_code",
    "footnotes",
    "sane_lists",
    "smarty",
]
EXTENSION_CONFIGS = {
    "toc": {"permalink": "#", "permalink_title": "Link to this section", "toc_depth": "2-3"},
    # Alignment as an attribute: a style attribute would be stripped.
    "tables": {"use_align_attribute": True},
}

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl", "dt",
    "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "img", "ins",
    "kbd", "li", "mark", "ol", "p", "pre", "s", "section", "strong", "sub", "sup",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"id", "title"},
    "a": {"href", "class"},
    "img": {"src", "alt", "width", "height"},
    "code": {"class"},
    "div": {"class"},
    "li": {"id"},
    "sup": {"id", "class"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}

WORDS_PER_MINUTE = 220
_WORD = re.compile(r"\w+")
_H1 = re.compile(r"<(/?)h1\b", re.IGNORECASE)


@dataclass(frozen=True)
class RenderedMarkdown:
    html: str
    toc_html: str
    reading_minutes: int


def sanitise(html):
    """Keep only allow-listed HTML (nh3 also strips comments and closes tags)."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render(text):
    """Render an article body: sanitised HTML, its table of contents and reading time."""
    text = (text or "").replace("\x00", "")
    md = markdown.Markdown(extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS)
    # The article title is the page's only h1, so a body "# heading" becomes h2.
    html = _H1.sub(r"<\1h2", md.convert(text))
    # A heading an editor wrote as raw HTML can carry a hostile title into the
    # TOC, so the TOC goes through the same sanitiser.
    toc_html = sanitise(md.toc) if md.toc_tokens else ""
    words = len(_WORD.findall(text))
    return RenderedMarkdown(
        html=sanitise(html),
        toc_html=toc_html,
        reading_minutes=max(1, math.ceil(words / WORDS_PER_MINUTE)),
    )


def markdownify(text):
    """django-markdownx's preview hook (MARKDOWNX_MARKDOWNIFY_FUNCTION)."""
    return render(text).html
