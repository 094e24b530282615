from django import template

from articles import browse
from articles.structured_data import absolute_url as _absolute_url
from articles.structured_data import article_structured_data, json_ld_script

register = template.Library()


@register.filter
def absolute_url(path):
    """A path on this site as an absolute URL on SITE_URL."""
    return _absolute_url(path)


@register.simple_tag
def article_json_ld(article):
    """The article's JSON-LD block (the page's only inline script, and it is data)."""
    return json_ld_script(article_structured_data(article))


@register.simple_tag
def browse_figures():
    """The topics and archive months with their published counts (three small queries)."""
    return browse.figures()
