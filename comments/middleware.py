"""The article page a refused comment comes back to (see comments.views.refused)."""

from articles.models import Article
from site_project.shared_pages import has_session

from .forms import CommentForm
from .views import ARTICLE_WITH_ERRORS
from .visitor import pop_refused_form


class RefusedCommentMiddleware:
    """Puts a reader's refused comment form back into the article page they were sent to.

    It acts only for a visitor with a session cookie (the only ones who can
    have a form kept), on the article page's TemplateResponse: the bound form
    goes into the context, where the comments block looks for it, and the
    page's title starts with "Error:". Such a page is private to the reader
    (site_project.shared_pages never shares a page of a visitor with a session).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_template_response(self, request, response):
        if request.method != "GET" or not has_session(request):
            return response
        context = response.context_data
        article = context.get("article") if context else None
        if not isinstance(article, Article) or "comment_form" in context:
            return response
        kept = pop_refused_form(request, article)
        if kept is None:
            return response
        form = CommentForm(article, data=kept["data"])
        form.is_valid()
        for field, errors in kept.get("errors", {}).items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        context["comment_form"] = form
        response.template_name = ARTICLE_WITH_ERRORS
        return response
