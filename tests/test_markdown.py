import re
from html.parser import HTMLParser

import pytest

from articles.markdown import images_without_alt, markdownify, render, sanitise

from .html_safety import unsafe_parts

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" ONERROR="alert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">click</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "![x](javascript:alert(1))",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '<div style="color:red">styled</div>',
    "<iframe src=https://evil.example></iframe>",
    '<object data="data:text/html,<script>alert(1)</script>"></object>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">d</a>',
    '<form action="https://evil.example"><input name=x></form>',
    "<body onload=alert(1)>",
    '<details open ontoggle="alert(1)">',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "<<script>script>alert(1)<</script>/script>",
    "<scr<script>ipt>alert(1)</script>",
    "<style>body{display:none}</style>",
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    "## Heading <img src=x onerror=alert(1)>",
    '<h2 onclick="alert(1)">Heading</h2>',
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_markup_never_reaches_the_page(source):
    rendered = render(source)
    for html in (rendered.html, rendered.toc_html):
        assert unsafe_parts(html) == []
        assert "<script" not in html.lower()
        assert "javascript:" not in html.lower()


def test_the_safety_check_itself_notices_script():
    assert unsafe_parts('<a href=" JavaScript:x" onclick="y">z</a><script></script>') == [
        "a href=' JavaScript:x'",
        "a onclick=",
        "<script>",
    ]


def test_markdown_features_survive_sanitising():
    rendered = render(
        "## Dosage\n\nText with a footnote.[^1]\n\n"
        "| Dose | Use |\n|:-----|----:|\n| 20 mg | mild |\n\n"
        "```python\nprint('hi')\n```\n\n"
        '"Quoted" -- text\n\n1. one\n2. two\n\n[^1]: The note.\n'
    )
    html = rendered.html
    assert '<h2 id="dosage">' in html
    assert '<a class="headerlink" href="#dosage"' in html
    assert "<table>" in html and '<th align="left">' in html
    assert '<code class="language-python">' in html
    assert "&ldquo;Quoted&rdquo;" in html or "“Quoted”" in html
    assert "<ol>" in html
    assert 'class="footnote"' in html
    assert 'href="#dosage"' in rendered.toc_html


def test_body_h1_becomes_h2_so_the_title_stays_the_only_h1():
    html = render("# A heading\n\ntext").html
    assert "<h1" not in html
    assert "<h2" in html


def test_reading_time_counts_words():
    assert render("word " * 50).reading_minutes == 1
    assert render("word " * 1000).reading_minutes == 5


def test_nul_bytes_are_dropped():
    assert "\x00" not in render("a\x00b").html


def test_preview_is_the_readers_html_without_ids():
    source = "## Same\n\n<script>x</script> *text*[^1]\n\n[^1]: A note.\n"
    assert markdownify(source) == sanitise(render(source).html)
    assert " id=" not in markdownify(source)  # nothing to shadow the admin's globals


# Ids come only from the renderer

TOC_AND_FOOTNOTES = (
    "## Side effects\n\nDry lips.[^lips]\n\n### Skin care\n\nText.\n\n[^lips]: Use a balm.\n"
)


@pytest.mark.parametrize(
    "raw",
    [
        '<p id="comments">x</p>',
        '<div id="respond" name="respond">x</div>',
        '<a name="top" id="location">x</a>',
        '<img src="/x.png" alt="" id="main" name="main">',
        '<span id="fn:lips">a copy of a footnote id</span>',
        '<h2 id="side-effects">a copy of a heading id</h2>',
    ],
)
def test_an_id_or_name_typed_in_raw_html_is_removed(raw):
    html = render(TOC_AND_FOOTNOTES + "\n" + raw + "\n").html
    typed = re.sub(r"<[^>]*>", "", raw)
    assert typed in html
    # The renderer's own ids are there once each; nothing an editor typed adds one.
    assert sorted(re.findall(r' id="([^"]*)"', html)) == sorted(
        ["side-effects", "skin-care", "fnref:lips", "fn:lips"]
    )
    assert " name=" not in html


def test_table_of_contents_and_footnote_links_reach_their_targets():
    rendered = render(TOC_AND_FOOTNOTES)
    ids = set(re.findall(r' id="([^"]*)"', rendered.html))
    toc_targets = re.findall(r'href="#([^"]*)"', rendered.toc_html)
    body_targets = re.findall(r'href="#([^"]*)"', rendered.html)
    assert toc_targets == ["side-effects", "skin-care"]
    assert {"fn:lips", "fnref:lips", "side-effects", "skin-care"} <= set(body_targets)
    assert set(toc_targets + body_targets) <= ids


def test_sanitising_alone_keeps_no_id():
    assert sanitise('<h2 id="x">t</h2><p id="rendered-0-y">p</p>') == "<h2>t</h2><p>p</p>"


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


def images(html):
    parser = _Images()
    parser.feed(html)
    return parser.images


@pytest.fixture
def uploaded(settings, tmp_path):
    """An image stored as the editor's upload stores it, and its address."""
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "markdownx").mkdir()
    Image.new("RGB", (640, 360)).save(tmp_path / "markdownx" / "0123abcd.jpg", "JPEG")
    return "/media/markdownx/0123abcd.jpg"


def test_uploaded_images_get_their_size_and_all_but_the_first_load_lazily(uploaded):
    html = render(f"![First]({uploaded})\n\n![Second]({uploaded})\n\n![Third](/static/x.png)").html

    first, second, third = images(html)
    assert (first["width"], first["height"]) == ("640", "360")  # no layout shift
    assert "loading" not in first  # the first may be in view: fetched at once
    assert second["loading"] == third["loading"] == "lazy"
    assert "width" not in third  # not one of ours: its size is unknown


def test_a_decorative_image_gets_an_empty_alt(uploaded):
    (image,) = images(render(f"![Decorative]({uploaded})").html)
    assert image["alt"] == ""


def test_images_without_alt_text_are_named():
    text = (
        "![A described image](/media/markdownx/ok.jpg)\n\n"
        "![](/media/markdownx/no-words.png)\n\n"
        "![  ](/media/markdownx/spaces.png)\n\n"
        "![decorative](/media/markdownx/border.png)\n\n"
        '<img src="/media/markdownx/raw.png">\n\n'
        "![][by-reference]\n\n"
        "[by-reference]: /media/markdownx/referenced.jpg\n"
    )
    assert images_without_alt(text) == ["no-words.png", "spaces.png", "raw.png", "referenced.jpg"]


def test_text_without_images_has_nothing_to_describe():
    assert images_without_alt("") == []
    assert images_without_alt("## Just text\n\nand [a link](https://example.org)") == []
