from django.http import Http404
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers
from django.views.generic import DetailView, ListView

from .models import Article


def can_preview_drafts(user):
    return user.is_active and user.is_staff and user.has_perm("articles.view_article")


class ArticleListView(ListView):
    template_name = "articles/article_list.html"
    context_object_name = "articles"
    paginate_by = 10

    def get_queryset(self):
        return Article.objects.published().select_related("author").defer("body", "body_html")


class ArticleDetailView(DetailView):
    """A published article; staff may also preview drafts and scheduled ones."""

    template_name = "articles/article_detail.html"
    context_object_name = "article"

    def get_queryset(self):
        articles = Article.objects.select_related("author")
        if can_preview_drafts(self.request.user):
            return articles
        return articles.published()

    def get(self, request, *args, **kwargs):
        try:
            self.object = self.get_object()
        except Http404:
            moved = self.moved_article(kwargs["slug"])
            if moved is None:
                raise
            return redirect(moved, permanent=True)
        response = self.render_to_response(self.get_context_data(object=self.object))
        if not self.object.is_published:
            # A staff preview: never cached, never indexed.
            add_never_cache_headers(response)
            response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    def moved_article(self, old_slug):
        """The visible article that once had this slug (the history remembers it)."""
        article_ids = (
            Article.history.filter(slug=old_slug)
            .order_by("-history_date")
            .values_list("id", flat=True)
        )
        return self.get_queryset().filter(pk__in=article_ids[:1]).first()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["recommendations"] = list(self.object.published_recommendations())
        context["is_preview"] = not self.object.is_published
        return context
