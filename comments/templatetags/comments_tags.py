from django import template

register = template.Library()


@register.inclusion_tag("comments/block.html", takes_context=True)
def comments_block(context, article):
    """The approved comments and the reply form under an article."""
    return {"article": article, "request": context.get("request")}
