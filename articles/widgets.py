"""The article editor: django-markdownx's admin widget with a toolbar and a true preview.

The markup (articles/templates/articles/widgets/article_editor.html: in the
app, where Django's default form renderer finds widget templates) keeps markdownx's
own structure (a .markdownx element holding the textarea and .markdownx-preview),
so markdownx still previews through the site's renderer and handles its keys;
articles/static/articles/editor.js shows that preview in a frame styled by
the public stylesheet and adds the rest.
"""

from django.templatetags.static import static
from django.utils.html import escape
from markdownx.widgets import AdminMarkdownxWidget

from .markdown import DECORATIVE, WORDS_PER_MINUTE


class ArticleEditorWidget(AdminMarkdownxWidget):
    template_name = "articles/widgets/article_editor.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["editor"] = {
            "preview_document": preview_document(),
            "words_per_minute": WORDS_PER_MINUTE,
            "decorative": DECORATIVE,
        }
        return context

    class Media:
        css = {"all": ["articles/editor.css"]}
        js = ["articles/editor.js"]


def preview_document():
    """The preview frame's page: the public stylesheet and the article page's structure.

    Given as the frame's srcdoc, with a doctype, so that it is rendered in
    standards mode like the public page (an empty frame is in quirks mode,
    where tables, for one, do not inherit the font size). A plain string: the
    template escapes it into the attribute, and the browser unescapes it.
    """
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<link rel="stylesheet" href="{escape(static("css/site.css"))}"></head><body>'
        '<main class="wrap article-preview"><article class="article"><header><h1></h1></header>'
        '<div class="article-body"></div></article></main></body></html>'
    )
