from django import template

from site_project.dates import iso_datetime as _iso_datetime

register = template.Library()


@register.filter
def iso_datetime(value):
    """For datetime attributes: `<time datetime="{{ article.published_at|iso_datetime }}">`."""
    return _iso_datetime(value)
