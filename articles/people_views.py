"""/people/<slug>/: who a person is, what they wrote and what they medically reviewed.

A public page like the others (shared by every visitor without a session,
see site_project/shared_pages.py): it reads the person and listed articles
only, never the staff account a person may be linked to.
"""

from django.db.models import Max
from django.http import Http404
from django.views.generic import DetailView

from site_project.pagination import requested_page

from .models import Article
from .people import Person
from .reviews import MedicalReview

PER_PAGE = 20


def _page(queryset, number):
    """One page of `queryset` and whether another follows, in one query (no count)."""
    start = (number - 1) * PER_PAGE
    items = list(queryset[start : start + PER_PAGE + 1])
    if number > 1 and not items:
        raise Http404("No such page.")
    return items[:PER_PAGE], len(items) > PER_PAGE


class PersonDetailView(DetailView):
    model = Person
    template_name = "articles/person_detail.html"
    context_object_name = "person"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        person = self.object
        teasers = Article.objects.listed().defer("body", "body_html", "toc_html", "disclaimer")
        page = requested_page(self.request, "page")
        reviewed_page = requested_page(self.request, "reviewed")
        written, more_written = _page(
            teasers.filter(author=person).order_by("-published_at", "-id"), page
        )
        reviewed, more_reviewed = _page(
            teasers.filter(
                medical_reviews__reviewer=person,
                medical_reviews__status=MedicalReview.Status.APPROVED,
            )
            .annotate(reviewed_on=Max("medical_reviews__decided_at"))
            .order_by("-reviewed_on", "-id"),
            reviewed_page,
        )
        context.update(
            written=written,
            reviewed=reviewed,
            page=page,
            reviewed_page=reviewed_page,
            more_written=more_written,
            more_reviewed=more_reviewed,
        )
        return context
