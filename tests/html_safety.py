"""A parser-based check that HTML carries nothing executable."""

from html.parser import HTMLParser

FORBIDDEN_TAGS = {"script", "style", "iframe", "object", "embed", "form", "meta", "link", "base", "svg", "math"}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data"}


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []

    def handle_starttag(self, tag, attrs):
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}=")
            if name == "style":
                self.problems.append(f"{tag} style=")
            if name in URL_ATTRIBUTES and value:
                scheme = "".join(value.split()).lower()
                if scheme.startswith(("javascript:", "vbscript:", "data:")):
                    self.problems.append(f"{tag} {name}={value!r}")


def unsafe_parts(html):
    """What in `html` could run script or restyle the page; empty when it is safe."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.problems
