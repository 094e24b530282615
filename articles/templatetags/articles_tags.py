from django import template
from django.urls import reverse
from django.utils.html import format_html

from articles import browse
from articles.models import Article
from articles.structured_data import absolute_url as _absolute_url
from articles.structured_data import (
    article_structured_data,
    json_ld_script,
    person_structured_data,
)
from site_project.shared_pages import has_session

register = template.Library()


@register.filter
def absolute_url(path):
    """A path on this site as an absolute URL on SITE_URL."""
    return _absolute_url(path)


@register.simple_tag
def article_json_ld(article, review=None):
    """The article's JSON-LD block (the page's only inline script, and it is data).

    `review`: the page's review status when the view has it (not worked out twice).
    """
    return json_ld_script(article_structured_data(article, review))


@register.simple_tag
def person_json_ld(person):
    """A person's JSON-LD block: Person, or Organization for the editorial team."""
    return json_ld_script(person_structured_data(person))


@register.simple_tag
def browse_figures():
    """The topics and archive months with their published counts (three small queries)."""
    return browse.figures()


@register.simple_tag(takes_context=True)
def site_pages(context):
    """The published site pages, for the footer: the view's, or one small query."""
    if "site_pages" in context:
        return context["site_pages"]
    return Article.objects.site_pages().only("title", "slug", "kind").order_by("title")


@register.simple_tag(takes_context=True)
def edit_link(context, article):
    """“Edit this article” for staff who may change it; nothing for anyone else.

    The one place that decides. A request without a session cookie is
    answered without looking at request.user: reading the user reads the
    session, which makes Django send "Vary: Cookie", and those anonymous
    pages are one shared copy for every reader (and for the HTTP cache).
    """
    request = context.get("request")
    if request is None or not has_session(request):
        return ""
    user = request.user
    if not (user.is_active and user.is_staff and user.has_perm("articles.change_article")):
        return ""
    url = reverse("admin:articles_article_change", args=[article.pk])
    what = "page" if article.is_page else "article"
    return format_html('<p class="edit-link"><a href="{}">Edit this {}</a></p>', url, what)
