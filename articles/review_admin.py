"""The medical review workflow in the admin: requests, the reviewer's queue and the review page.

- Editors request a review from an article's change page ("Request medical
  review"), and may withdraw a request or discard changes waiting for review.
- Reviewers open "Medical reviews", which lists the reviews waiting for them;
  each opens the review page: the text as readers will see it, what changed
  since the last reviewed version (the History page's diffs), and the
  decision, which only the person asked can record.

Every view is behind the admin's login and token CSRF; each shows what it
will do on GET and acts on POST, through the functions of review_workflow.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from . import review_workflow
from .history import Change, line_diff
from .markdown import render
from .models import Article, Person
from .review_workflow import ReviewRefused
from .reviews import MedicalReview, covered_q, review_status


def reverse_admin(name, *args):
    return reverse(f"admin:articles_medicalreview_{name}", args=args)


def _day(moment):
    return formats.date_format(timezone.localtime(moment), "j M Y")


# --- the article's change page ----------------------------------------------------------


def review_panel_text(article):
    """One line on the review of the article's published text, for its change form."""
    status = review_status(article)
    if status is None:
        return "Not medical content: no medical review is needed."
    if status.state == "reviewed":
        return (
            f"Medically reviewed by {status.reviewer.name_with_credentials} on "
            f"{formats.date_format(status.reviewed_on, 'j F Y')}: readers see the reviewed text."
        )
    if status.state == "updated":
        return (
            f"The text changed after its last medical review "
            f"({status.reviewer.name_with_credentials}, "
            f"{formats.date_format(status.reviewed_on, 'j F Y')}): it needs a new review."
        )
    return "Not yet medically reviewed."


def review_panel(request, article):
    """What the top of an article's change form says about its review, and what can be done."""
    revision = getattr(article, "pending_revision", None)
    waiting = review_workflow.open_review(article)
    sent_back = (
        article.medical_reviews.filter(status=MedicalReview.Status.SENT_BACK)
        .select_related("reviewer")
        .first()
        if waiting is None
        else None
    )
    if (
        sent_back is not None
        and article.medical_reviews.filter(decided_at__gt=sent_back.decided_at).exists()
    ):
        sent_back = None  # an older answer, dealt with since
    can_request = request.user.has_perm("articles.add_medicalreview")
    return {
        "status": review_panel_text(article),
        "revision": revision,
        "waiting": waiting,
        "sent_back": sent_back,
        "legacy_note": article.legacy_review_note,
        "can_request": can_request and waiting is None,
        "can_withdraw": can_request and waiting is not None,
        "request_url": reverse_admin("request", article.pk),
        "is_reviewer": waiting is not None and review_workflow.can_record(waiting, request.user),
    }


# --- forms ----------------------------------------------------------------------------


class RequestForm(forms.Form):
    reviewer = forms.ModelChoiceField(
        queryset=Person.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose who reviews the article."},
    )
    note = forms.CharField(
        label="Note for the reviewer",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional: what changed, or what to look at first.",
    )

    def __init__(self, *args, article, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = review_workflow.eligible_reviewers(article)
        self.fields["reviewer"].label_from_instance = lambda person: person.name_with_credentials


class DecisionForm(forms.Form):
    DECISIONS = {
        "approve": "Approve",
        "minor": "Not medically significant",
        "send_back": "Send back",
    }

    decision = forms.ChoiceField(choices=list(DECISIONS.items()))
    note = forms.CharField(
        label="Your note",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Sending back: say what needs to change. Approving: optional, for the editors.",
    )
    next_review_due = forms.DateField(
        label="Next review due",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="When you approve: the date by which the article should be reviewed again.",
    )
    seen_digest = forms.CharField(widget=forms.HiddenInput)


# --- the admin ---------------------------------------------------------------------------


class WaitingForFilter(admin.SimpleListFilter):
    """Reviewers start on what waits for them; everyone can see all the reviews."""

    title = "reviews"
    parameter_name = "show"

    def __init__(self, request, params, model, model_admin):
        self._default = _default_view(request)
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return [
            ("mine", "Waiting for me"),
            ("waiting", "All waiting"),
            ("decided", "Decided"),
            ("all", "All"),
        ]

    def value(self):
        value = super().value()
        return value if value is not None else self._default

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return queryset.open().for_user(request.user)
        if self.value() == "waiting":
            return queryset.open()
        if self.value() == "decided":
            return queryset.exclude(status=MedicalReview.Status.REQUESTED)
        return queryset

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


def _default_view(request):
    if Person.objects.filter(user=request.user).exists() and request.user.has_perm(
        "articles.record_review"
    ):
        return "mine"
    return "waiting"


@admin.register(MedicalReview)
class MedicalReviewAdmin(admin.ModelAdmin):
    list_display = [
        "article_title",
        "what",
        "reviewer_name",
        "status",
        "requested",
        "decided",
        "open_link",
    ]
    list_filter = [WaitingForFilter, "status"]
    list_select_related = ["article", "reviewer", "revision"]
    search_fields = ["article__title", "reviewer__name"]
    list_per_page = 50

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, {"title": "Medical reviews", **(extra_context or {})}
        )

    def has_add_permission(self, request):
        return False  # requests come from an article's page

    def has_change_permission(self, request, obj=None):
        return False  # decisions are recorded on the review page, by the reviewer

    def has_delete_permission(self, request, obj=None):
        return False  # a review is a record

    @admin.display(description="article", ordering="article__title")
    def article_title(self, review):
        return review.article.title

    @admin.display(description="to review")
    def what(self, review):
        if review.revision_id:
            return "Changes to the published text"
        if review.article.status == Article.Status.PUBLISHED:
            return "The published text"
        return "Draft"

    @admin.display(description="reviewer", ordering="reviewer__name")
    def reviewer_name(self, review):
        return review.reviewer.name_with_credentials

    @admin.display(description="requested", ordering="requested_at")
    def requested(self, review):
        return _day(review.requested_at)

    @admin.display(description="decided", ordering="decided_at")
    def decided(self, review):
        return _day(review.decided_at) if review.decided_at else "—"

    @admin.display(description="")
    def open_link(self, review):
        label = "Review" if review.is_open else "Open"
        return format_html(
            '<a class="button" href="{}">{}</a>', reverse_admin("review", review.pk), label
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:review_id>/review/",
                view(self.review_view),
                name="articles_medicalreview_review",
            ),
            path(
                "<int:review_id>/withdraw/",
                view(self.withdraw_view),
                name="articles_medicalreview_withdraw",
            ),
            path(
                "request/<int:article_id>/",
                view(self.request_view),
                name="articles_medicalreview_request",
            ),
            path(
                "discard/<int:article_id>/",
                view(self.discard_view),
                name="articles_medicalreview_discard",
            ),
            *super().get_urls(),
        ]

    def _context(self, request, title, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            **extra,
        }

    # --- requesting ---

    def _article_for_editor(self, request, article_id):
        if not request.user.has_perm("articles.add_medicalreview"):
            raise PermissionDenied
        return get_object_or_404(Article.objects.select_related("author"), pk=article_id)

    def request_view(self, request, article_id):
        article = self._article_for_editor(request, article_id)
        form = RequestForm(request.POST or None, article=article)
        if request.method == "POST" and form.is_valid():
            try:
                review = review_workflow.request_review(
                    article, form.cleaned_data["reviewer"], request.user, form.cleaned_data["note"]
                )
            except ReviewRefused as refused:
                form.add_error(None, str(refused))
            else:
                self.message_user(
                    request,
                    f"Review requested from {review.reviewer.name}. They see it in their queue "
                    "(Medical reviews) and in their reminder email.",
                    messages.SUCCESS,
                )
                return redirect("admin:articles_article_change", article.pk)
        revision = review_workflow.pending_revision(article)
        return TemplateResponse(
            request,
            "admin/articles/medicalreview/request.html",
            self._context(
                request,
                f"Request a medical review of “{article.title}”",
                article=article,
                form=form,
                revision=revision,
                waiting=review_workflow.open_review(article),
                no_reviewers=not form.fields["reviewer"].queryset.exists(),
            ),
        )

    def withdraw_view(self, request, review_id):
        if not request.user.has_perm("articles.add_medicalreview"):
            raise PermissionDenied
        review = get_object_or_404(
            MedicalReview.objects.select_related("article", "reviewer"), pk=review_id
        )
        if request.method == "POST":
            try:
                review_workflow.withdraw(review, request.user)
            except ReviewRefused as refused:
                self.message_user(request, str(refused), messages.ERROR)
            else:
                self.message_user(request, "The review request was withdrawn.", messages.SUCCESS)
            return redirect("admin:articles_article_change", review.article_id)
        return TemplateResponse(
            request,
            "admin/articles/medicalreview/confirm.html",
            self._context(
                request,
                "Withdraw the review request?",
                article=review.article,
                question=f"Withdraw the request to {review.reviewer.name} to review “{review.article.title}”?",
                button="Withdraw the request",
            ),
        )

    def discard_view(self, request, article_id):
        article = self._article_for_editor(request, article_id)
        if not request.user.has_perm("articles.change_article"):
            raise PermissionDenied
        revision = review_workflow.pending_revision(article)
        if revision is None:
            self.message_user(request, "No changes are waiting for review.", messages.INFO)
            return redirect("admin:articles_article_change", article.pk)
        if request.method == "POST":
            review_workflow.discard_revision(revision)
            self.message_user(
                request,
                "The changes waiting for review were discarded; the published text is unchanged.",
                messages.SUCCESS,
            )
            return redirect("admin:articles_article_change", article.pk)
        return TemplateResponse(
            request,
            "admin/articles/medicalreview/confirm.html",
            self._context(
                request,
                "Discard the changes waiting for review?",
                article=article,
                question=f"Discard the changes to “{article.title}” saved on {_day(revision.updated_at)}? "
                "The published text stays as it is, and any review request about them is withdrawn.",
                button="Discard the changes",
                changes=_text_changes(article, revision),
            ),
        )

    # --- reviewing ---

    def review_view(self, request, review_id):
        if not request.user.has_perm("articles.view_medicalreview"):
            raise PermissionDenied
        review = get_object_or_404(
            MedicalReview.objects.select_related(
                "article", "article__author", "reviewer", "revision", "requested_by", "version"
            ),
            pk=review_id,
        )
        text = review_workflow.text_under_review(review)
        may_decide = review.is_open and review_workflow.can_record(review, request.user)
        form = DecisionForm(
            request.POST or None,
            initial={
                "seen_digest": text.digest,
                "next_review_due": timezone.localdate() + review_workflow.REVIEW_INTERVAL,
                "decision": "approve",
            },
        )
        if request.method == "POST":
            if not may_decide:
                raise PermissionDenied(
                    f"Only {review.reviewer.name}, signed in as themself, can record this review."
                )
            if form.is_valid():
                response = self._decide(request, review, form)
                if response is not None:
                    return response
        return TemplateResponse(
            request,
            "admin/articles/medicalreview/review.html",
            self._context(
                request,
                f"Medical review of “{review.article.title}”",
                review=review,
                article=review.article,
                text=text,
                text_html=mark_safe(render(text.body).html),  # the one renderer's sanitised HTML
                comparison=_comparison(review, text),
                references=review.article.references.all(),
                form=form,
                may_decide=may_decide,
                can_mark_minor=review.revision_id is not None,
            ),
        )

    def _decide(self, request, review, form):
        data = form.cleaned_data
        decision = data["decision"]
        try:
            if decision == "approve":
                review_workflow.approve(
                    review,
                    request.user,
                    note=data["note"],
                    next_review_due=data["next_review_due"],
                    seen_digest=data["seen_digest"],
                )
                done = "Approved: the article now says it was medically reviewed by you today."
            elif decision == "minor":
                review_workflow.mark_not_significant(
                    review, request.user, note=data["note"], seen_digest=data["seen_digest"]
                )
                done = "Recorded as not medically significant: the changes are published."
            else:
                review_workflow.send_back(review, request.user, note=data["note"])
                done = "Sent back to the editors with your note."
        except ReviewRefused as refused:
            form.add_error("note" if decision == "send_back" else None, str(refused))
            return None
        self.message_user(request, done, messages.SUCCESS)
        return redirect(reverse("admin:articles_medicalreview_changelist"))


def _text_changes(article, revision):
    """The pending changes against the published text, as the History page shows changes."""
    return _changes(
        (article.title, article.summary, article.body),
        (revision.title, revision.summary, revision.body),
    )


def _changes(old, new):
    changes = []
    for label, before, after in zip(("Title", "Summary", "Body"), old, new, strict=True):
        before, after = (before or "").replace("\r\n", "\n"), (after or "").replace("\r\n", "\n")
        if before == after:
            continue
        if label == "Body":
            changes.append(Change(label, diff=line_diff(before, after)))
        else:
            changes.append(Change(label, old=before, new=after))
    return changes


def _comparison(review, text):
    """What changed since the last reviewed version (or, never reviewed, since the published text)."""
    article = review.article
    new = (text.title, text.summary, text.body)
    covering = review_workflow.last_covering_review(article)
    if covering is not None:
        base = covering.version
        return {
            "label": f"Changes since the version reviewed on {_day(covering.decided_at)}",
            "changes": _changes((base.title, base.summary, base.body), new),
            "reviewed_before": True,
        }
    if review.revision_id and article.status == Article.Status.PUBLISHED:
        return {
            "label": "Never medically reviewed. Changes against the published text",
            "changes": _changes((article.title, article.summary, article.body), new),
            "reviewed_before": False,
        }
    return {"label": None, "changes": [], "reviewed_before": False}


def needs_review_counts():
    """The admin index's figures: requested, changed since review, overdue, never reviewed."""
    medical = Article.objects.filter(medical=True, kind=Article.Kind.ARTICLE)
    return {
        "requested": MedicalReview.objects.open().count(),
        "changed": medical.exclude(reviewed_text_digest="").exclude(covered_q()).count(),
        "overdue": medical.review_overdue().count(),
        "unreviewed": medical.filter(status=Article.Status.PUBLISHED, last_review=None).count(),
    }
