"""The one Markdown renderer: what the admin preview shows is what readers get.

Python-Markdown renders; nh3 then keeps only the allow-listed tags, attributes
and URL schemes below, so no <script>, event handler, style or javascript: URL
survives whatever an editor types. Ids come only from the renderer (headings
for the table of contents, footnotes): one typed in raw HTML is dropped, and
the editor's preview has none at all (see markdownify).

Text an editor has just typed goes through render_checked(): a length limit,
and a deadline on the render itself.

Images: every image needs alternative text (`images_without_alt()` is what
the article form checks); `![decorative](…)` says that an image is only
decoration, and is rendered with an empty alt, as screen readers expect.
Uploaded images get their width and height (no layout shift while they
load), and all but the first are loaded lazily.
"""

import math
import multiprocessing
import re
import secrets
from dataclasses import dataclass
from html.parser import HTMLParser

import markdown
import nh3
from django.utils.html import escape
from django.utils.text import normalize_newlines
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

# Text an editor types is refused above this many characters (line breaks
# counted once). The guide is about 4,000; a 15,000-word article fits.
MAX_LENGTH = 100_000
# ...and when it cannot be rendered in this many seconds. Python-Markdown is
# quadratic in some input ('[' or '<a ' repeated: 100,000 characters of
# '<a ' take over a minute) and recurses once per level of nesting, so no
# length limit alone bounds it; a real article renders in milliseconds.
RENDER_SECONDS = 5

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


class Unrenderable(ValueError):
    """Text the renderer refuses; str() is the message for the editor."""


def sanitise(html, id_mark=None):
    """Keep only allow-listed HTML (nh3 also strips comments and closes tags).

    Of the ids, only those that start with `id_mark` are kept (without it):
    the renderer's own, marked by _MarkIds. With no mark, every id goes.
    """

    def keep_marked_ids(tag, attribute, value):
        if attribute != "id":
            return value
        return value.removeprefix(id_mark) if id_mark and value.startswith(id_mark) else None

    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=keep_marked_ids,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


class _MarkIds(Treeprocessor):
    """Prefix every id in the element tree with this render's secret mark.

    The tree holds what the renderer built, the toc and footnotes ids
    included (this runs after them); raw HTML is kept aside as text and
    pasted in later, so an id typed there never carries the mark.
    """

    def __init__(self, md, mark):
        super().__init__(md)
        self.mark = mark

    def run(self, root):
        for element in root.iter():
            if "id" in element.attrib:
                element.set("id", self.mark + element.get("id"))


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
    mark = f"rendered-{secrets.token_hex(8)}-"
    md.treeprocessors.register(_MarkIds(md, mark), "mark-ids", 1)  # after toc (5) and images (5)
    # The article title is the page's only h1, so a body "# heading" becomes h2.
    html = _H1.sub(r"<\1h2", md.convert(text))
    # A heading an editor wrote as raw HTML can carry a hostile title into the
    # TOC, so the TOC goes through the same sanitiser.
    toc_html = sanitise(md.toc) if md.toc_tokens else ""
    words = len(_WORD.findall(text))
    return RenderedMarkdown(
        html=sanitise(html, id_mark=mark),
        toc_html=toc_html,
        reading_minutes=max(1, math.ceil(words / WORDS_PER_MINUTE)),
    )


def render_checked(text):
    """render() for text an editor has just typed: Unrenderable if too long or too costly.

    The render runs in a forked child that is killed after RENDER_SECONDS,
    so that no input can hold a worker past gunicorn's timeout.
    """
    text = text or ""
    length = len(normalize_newlines(text))
    if length > MAX_LENGTH:
        raise Unrenderable(
            f"Please keep the article under {MAX_LENGTH:,} characters (it has {length:,})."
        )
    if "fork" not in multiprocessing.get_all_start_methods():
        return render(text)  # no fork here (Windows): no deadline either
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_render_into, args=(text, sender), daemon=True)
    child.start()
    sender.close()
    try:
        outcome = receiver.recv() if receiver.poll(RENDER_SECONDS) else None
    except EOFError:  # the child died without a word (out of memory)
        outcome = None
    finally:
        child.kill()
        child.join()
        receiver.close()
    if not isinstance(outcome, RenderedMarkdown):
        raise Unrenderable(
            outcome
            or "This text takes too long to render. Look for long runs of brackets, "
            "angle brackets or other markup characters, and split very long paragraphs."
        )
    return outcome


def _render_into(text, sender):
    """In the child: send the rendering, or a message saying why there is none."""
    try:
        outcome = render(text)
    except RecursionError:
        outcome = "This text is nested too deeply to render (lists or quotes inside each other)."
    sender.send(outcome)
    sender.close()


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
    """The editor's preview (MARKDOWNX_MARKDOWNIFY_FUNCTION): the readers' HTML, without ids.

    The preview runs inside the admin page, among its scripts; without ids,
    nothing in it can shadow a global one of them relies on (DOM clobbering).
    """
    try:
        return sanitise(render_checked(text).html)
    except Unrenderable as refusal:
        return f'<p class="errornote">{escape(str(refusal))}</p>'
