"""The one Markdown renderer: what the admin preview shows is what readers get.

Python-Markdown renders; nh3 then keeps only the allow-listed tags, attributes
and URL schemes below, so no <script>, event handler, style or javascript: URL
survives whatever an editor types.

Images: every image needs alternative text (`images_without_alt()` is what
the article form checks); `![decorative](…)` says that an image is only
decoration, and is rendered with an empty alt, as screen readers expect.
Uploaded images get their width and height (no layout shift while they
load), and all but the first are loaded lazily.
"""

import math
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import markdown
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

from .images import display_name, stored_image_size

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
    "img": {"src", "alt", "width", "height", "loading", "decoding"},
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
# The alternative text that marks an image as decoration only (rendered as alt="").
DECORATIVE = "decorative"
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


class _ImageAttributes(Treeprocessor):
    """Decorative images get alt=""; uploads their size; all but the first image load lazily."""

    def run(self, root):
        for index, image in enumerate(root.iter("img")):
            if is_decorative(image.get("alt", "")):
                image.set("alt", "")
            size = stored_image_size(image.get("src", ""))
            if size is not None:
                image.set("width", str(size[0]))
                image.set("height", str(size[1]))
            if index:
                image.set("loading", "lazy")
            image.set("decoding", "async")


class _ImageExtension(Extension):
    def extendMarkdown(self, md):
        # After the inline patterns (20) have made the <img> elements.
        md.treeprocessors.register(_ImageAttributes(md), "image_attributes", 5)


def is_decorative(alt):
    return alt.strip().lower() == DECORATIVE


def _markdown(images=True):
    extensions = [*EXTENSIONS, _ImageExtension()] if images else EXTENSIONS
    return markdown.Markdown(extensions=extensions, extension_configs=EXTENSION_CONFIGS)


def render(text):
    """Render an article body: sanitised HTML, its table of contents and reading time."""
    text = (text or "").replace("\x00", "")
    md = _markdown()
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


class _Images(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.images = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            attributes = dict(attrs)
            self.images.append((attributes.get("src") or "", attributes.get("alt")))

    handle_startendtag = handle_starttag


def images_without_alt(text):
    """Short names of the images in `text` that have no alternative text, in order.

    Markdown images and <img> written as HTML alike; `![decorative](…)` counts as described.
    """
    parser = _Images()
    parser.feed(_markdown(images=False).convert((text or "").replace("\x00", "")))
    parser.close()
    return [
        display_name(src) or "(no address)" for src, alt in parser.images if not (alt or "").strip()
    ]


def markdownify(text):
    """django-markdownx's preview hook (MARKDOWNX_MARKDOWNIFY_FUNCTION)."""
    return render(text).html
