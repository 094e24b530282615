from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.functional import cached_property
from django.views.generic import DetailView, ListView, MonthArchiveView, YearArchiveView

from site_project.pagination import IndexedPaginator, StrictPaginationMixin
from site_project.shared_pages import has_session

from . import browse, search
from .models import Article, Topic
from .reviews import review_status
from .structured_data import absolute_url

# The newest entries of an article's public review history shown under it.
REVIEW_HISTORY_SHOWN = 50


def can_preview_drafts(request):
    if not has_session(request):
        return False
    user = request.user
    return user.is_active and user.is_staff and user.has_perm("articles.view_article")


class PublishedArticlesMixin:
    """Listed articles as teasers: the one definition of listed, without the heavy text."""

    paginator_class = IndexedPaginator

    def get_queryset(self):
        return (
            Article.objects.listed()
            .select_related("author")
            .defer("body", "body_html", "toc_html", "disclaimer")
        )


class ArticleListView(StrictPaginationMixin, PublishedArticlesMixin, ListView):
    template_name = "articles/article_list.html"
    context_object_name = "articles"
    paginate_by = 10

    def get_queryset(self):
        return super().get_queryset().order_by("-pinned", "-published_at", "-id")


class ArticleDetailView(DetailView):
    """A published article; staff may also preview drafts and scheduled ones."""

    context_object_name = "article"
    kind = Article.Kind.ARTICLE  # what this address serves; the other kind lives elsewhere

    def get_queryset(self):
        """Articles and site pages this visitor may see (the comment form posts to either)."""
        articles = Article.objects.select_related(
            "author", "last_review__reviewer"
        ).prefetch_related("topics", "references")
        if can_preview_drafts(self.request):
            return articles
        return articles.published()

    def get_object(self, queryset=None):
        article = super().get_object(queryset)
        if article.kind != self.kind:
            raise Http404("No such article at this address.")
        return article

    def get_template_names(self):
        return [
            "articles/page_detail.html" if self.object.is_page else "articles/article_detail.html"
        ]

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
        """The visible article or page now at another address: of the other kind, or renamed."""
        elsewhere = self.get_queryset().filter(slug=old_slug).exclude(kind=self.kind).first()
        if elsewhere is not None:
            return elsewhere
        article_ids = (
            Article.history.filter(slug=old_slug)
            .order_by("-history_date")
            .values_list("id", flat=True)
        )
        return self.get_queryset().filter(pk__in=article_ids[:1]).first()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # The footer's site pages come with the recommendations: one query for both.
        context["recommendations"], context["site_pages"] = (
            self.object.recommendations_and_site_pages()
        )
        context["is_preview"] = not self.object.is_published
        context["review"] = review = review_status(self.object)
        if review is not None:
            # The article's public change log: one query, whatever its length.
            context["review_history"] = list(
                self.object.review_history.select_related("review__reviewer")[:REVIEW_HISTORY_SHOWN]
            )
        return context


class PageDetailView(ArticleDetailView):
    """A site page (about, policies, contact): at /pages/<slug>/, unlisted, no medical notices."""

    kind = Article.Kind.PAGE

    def get_queryset(self):
        return super().get_queryset().prefetch_related(None)  # a page shows no topics or references


class TopicListView(ListView):
    template_name = "articles/topic_list.html"
    context_object_name = "topics"

    def get_queryset(self):
        return browse.topics()


class TopicDetailView(StrictPaginationMixin, PublishedArticlesMixin, ListView):
    """A topic's published articles, newest first."""

    template_name = "articles/topic_detail.html"
    context_object_name = "articles"
    paginate_by = 10

    def get_queryset(self):
        self.topic = get_object_or_404(
            Topic.objects.select_related("tally"), slug=self.kwargs["slug"]
        )
        return super().get_queryset().filter(topics=self.topic)

    def get_paginator(self, *args, **kwargs):
        paginator = super().get_paginator(*args, **kwargs)
        paginator.count = browse.topic_article_count(self.topic)  # the kept count, not a join
        return paginator

    def get_context_data(self, **kwargs):
        return super().get_context_data(topic=self.topic, **kwargs)


class ArticleYearArchiveView(StrictPaginationMixin, PublishedArticlesMixin, YearArchiveView):
    """A year's articles; its months and the years around it come from the kept month counts."""

    template_name = "articles/archive_year.html"
    context_object_name = "articles"
    date_field = "published_at"
    make_object_list = True
    paginate_by = 20

    @cached_property
    def archive_months(self):
        return [month for month, _ in browse.archive_months()]

    def get_date_list(self, queryset, date_type=None, ordering="ASC"):
        # Instead of one DISTINCT month per article of the year (a scan of the year).
        year = int(self.get_year())
        months = sorted(month for month in self.archive_months if month.year == year)
        if not months:
            raise Http404("No articles that year.")
        return months if ordering == "ASC" else months[::-1]

    def get_previous_year(self, date):
        earlier = [month for month in self.archive_months if month.year < date.year]
        return max(earlier).replace(month=1) if earlier else None

    def get_next_year(self, date):
        later = [month for month in self.archive_months if month.year > date.year]
        return min(later).replace(month=1) if later else None


class ArticleMonthArchiveView(StrictPaginationMixin, PublishedArticlesMixin, MonthArchiveView):
    template_name = "articles/archive_month.html"
    context_object_name = "articles"
    date_field = "published_at"
    month_format = "%m"
    paginate_by = 20


class SearchView(StrictPaginationMixin, ListView):
    """/search/?q=…: ranked published articles with highlighted excerpts."""

    template_name = "articles/search.html"
    context_object_name = "results"
    paginate_by = 10

    def get_queryset(self):
        self.query = search.clean_query(self.request.GET.get("q", ""))
        return search.search_articles(self.query)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        terms = search.search_terms(self.query)
        results = list(context["object_list"])
        for article in results:
            article.excerpt = search.excerpt(article, terms)
        context.update(
            results=results,
            query=self.query,
            # At most MAX_RESULTS are counted and ranked (articles/search.py).
            result_count=f"{search.MAX_RESULTS:,}+"
            if self.object_list.capped
            else context["paginator"].count,
            pagination_query=urlencode({"q": self.query}),
        )
        return context


def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /admin-tools/",
        "",
        f"Sitemap: {absolute_url(reverse('articles:sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
