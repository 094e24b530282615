"""The admin index's medical review figures (templates/admin/index.html)."""

from django import template

from articles.review_admin import needs_review_counts
from articles.reviews import MedicalReview

register = template.Library()


@register.simple_tag(takes_context=True)
def medical_review_overview(context):
    """What waits for this staff member (a reviewer) and for the editors, in a few counts."""
    user = context["request"].user
    overview = {"mine": None, "editor": False}
    if user.has_perm("articles.record_review"):
        overview["mine"] = MedicalReview.objects.open().for_user(user).count()
    if user.has_perm("articles.change_article") or user.has_perm("articles.view_medicalreview"):
        overview.update(needs_review_counts(), editor=True)
    return overview
