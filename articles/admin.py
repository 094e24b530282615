import copy

from adminsortable2.admin import CustomInlineFormSet, SortableAdminBase, SortableInlineAdminMixin
from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import formats, timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from . import history, review_workflow
from .images import cleaned_form_upload
from .models import Article, Person, RecommendedArticle, Reference, Topic
from .review_admin import reverse_admin, review_panel, review_panel_text
from .reviews import MedicalReview, Revision, covered_q, review_required, review_status
from .widgets import ArticleEditorWidget


class RecommendedArticleFormSet(CustomInlineFormSet):
    """Refuses self-links and repeated links with messages editors understand."""

    def get_unique_error_message(self, unique_check):
        return "An article can be recommended only once here: remove the repeated one."

    def clean(self):
        super().clean()
        for form in self.forms:
            recommended = (getattr(form, "cleaned_data", None) or {}).get("recommended")
            if self.instance.pk and recommended is not None and recommended.pk == self.instance.pk:
                form.add_error("recommended", "An article cannot recommend itself.")


class RecommendedArticleInline(SortableInlineAdminMixin, admin.TabularInline):
    model = RecommendedArticle
    fk_name = "article"
    formset = RecommendedArticleFormSet
    autocomplete_fields = ["recommended"]
    extra = 0
    verbose_name = "recommended article"
    verbose_name_plural = "Recommended articles (drag to order)"


class ReferenceForm(forms.ModelForm):
    """Accepts a DOI or PubMed ID pasted as a link and keeps only the identifier."""

    url = forms.URLField(label="URL", max_length=500, assume_scheme="https")
    # Longer than the stored identifiers, so that a pasted link reaches the clean_* methods.
    doi = forms.CharField(label="DOI", max_length=300, required=False)
    pubmed_id = forms.CharField(label="PubMed ID", max_length=100, required=False)

    class Meta:
        model = Reference
        fields = ["title", "url", "doi", "pubmed_id"]

    def clean_doi(self):
        doi = self.cleaned_data["doi"].strip()
        for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi:"):
            if doi.lower().startswith(prefix):
                doi = doi[len(prefix) :].strip()
        return doi

    def clean_pubmed_id(self):
        pubmed_id = self.cleaned_data["pubmed_id"].strip()
        for prefix in ("https://pubmed.ncbi.nlm.nih.gov/", "pmid:"):
            if pubmed_id.lower().startswith(prefix):
                pubmed_id = pubmed_id[len(prefix) :].strip(" /")
        return pubmed_id


class ReferenceInline(SortableInlineAdminMixin, admin.TabularInline):
    model = Reference
    form = ReferenceForm
    extra = 0
    verbose_name_plural = "References (drag to order)"


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "article_count"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(article_count=Count("articles"))

    @admin.display(description="articles", ordering="article_count")
    def article_count(self, topic):
        return topic.article_count


class ReviewOverdueFilter(admin.SimpleListFilter):
    """Medical articles by where they stand in the review workflow."""

    title = "medical review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [
            ("requested", "Review requested"),
            ("changes", "Changes waiting for review"),
            ("changed", "Changed since review"),
            ("overdue", "Overdue for review"),
            ("unreviewed", "Never reviewed"),
        ]

    def queryset(self, request, queryset):
        medical = queryset.filter(medical=True, kind=Article.Kind.ARTICLE)
        if self.value() == "requested":
            return medical.filter(medical_reviews__status=MedicalReview.Status.REQUESTED)
        if self.value() == "changes":
            return medical.filter(revisions__status=Revision.Status.PENDING)
        if self.value() == "changed":
            return medical.exclude(reviewed_text_digest="").exclude(covered_q())
        if self.value() == "overdue":
            return queryset.review_overdue()
        if self.value() == "unreviewed":
            return medical.filter(last_review__isnull=True)
        return queryset


class ArticleForm(forms.ModelForm):
    """The article form: the editor widget, a safe featured image and a note for the history."""

    change_note = forms.CharField(
        label="Note for the history",
        max_length=100,
        required=False,
        help_text="Optional: why you made this change, shown on the History page.",
    )
    skip_medical_review = forms.BooleanField(
        label="Publish or change the text without a medical review",
        required=False,
        help_text="Superusers only. Recorded in the History and in the article's public review "
        "history; the page says the text has not been reviewed.",
    )

    # Set by ArticleAdmin.get_form(): who is saving (the superuser override is theirs alone).
    user = None

    class Meta:
        model = Article
        fields = "__all__"
        widgets = {"body": ArticleEditorWidget}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "kind" in self.fields:
            # A form posted without it (a script, an old page) keeps the article's kind.
            self.fields["kind"].required = False
        if "author" in self.fields:
            self.fields["author"].empty_label = None
            self.fields["author"].label_from_instance = lambda person: person.name_with_credentials
        if not (self.user is not None and self.user.is_superuser and review_required()):
            self.fields.pop("skip_medical_review", None)

    def clean_kind(self):
        return self.cleaned_data.get("kind") or self.instance.kind or Article.Kind.ARTICLE

    def clean(self):
        cleaned = super().clean()
        live = Article.objects.filter(pk=self.instance.pk).first() if self.instance.pk else None
        after = self._as_saved(cleaned, live)
        refusal = review_workflow.publication_refusal(after, live)
        if refusal and not cleaned.get("skip_medical_review"):
            if self.user is not None and self.user.is_superuser:
                refusal += " (As a superuser you may tick “Publish or change the text without a medical review”.)"
            # Publishing a draft is refused at its status; making a published article medical, at the box.
            already_public = live is not None and live.status == Article.Status.PUBLISHED
            field = "medical" if already_public else "status"
            self.add_error(field if field in self.fields else None, refusal)
        return cleaned

    def _as_saved(self, cleaned, live):
        """The article as this form would save it, for the publishing rule (nothing is changed)."""
        after = Article(pk=self.instance.pk)
        for name in ("title", "summary", "body", "status", "kind", "medical"):
            if name in cleaned:
                value = cleaned[name]
            elif live is not None:
                value = getattr(live, name)
            else:
                value = getattr(self.instance, name)
            setattr(after, name, value)
        return after

    def clean_featured_image(self):
        return cleaned_form_upload(self.cleaned_data.get("featured_image"))


ARTICLE_FIELDSETS = [
    (None, {"fields": ["title", "slug", "summary", "body", "topics"]}),
    (
        "Publishing",
        {
            "fields": [
                "status",
                "published_at",
                "author",
                "kind",
                "pinned",
                "allow_comments",
                "change_note",
            ]
        },
    ),
    ("Featured image", {"fields": ["featured_image", "featured_image_alt"]}),
    (
        "Medical review",
        {"fields": ["medical", "review_state", "next_review_due", "disclaimer"]},
    ),
]
# A site page is not listed, so it has no topics, pin, featured image or medical review.
PAGE_FIELDSETS = [
    (None, {"fields": ["title", "slug", "summary", "body"]}),
    (
        "Publishing",
        {"fields": ["status", "published_at", "author", "kind", "allow_comments", "change_note"]},
    ),
]


@admin.register(Article)
class ArticleAdmin(SortableAdminBase, SimpleHistoryAdmin):
    form = ArticleForm
    list_display = [
        "title",
        "kind_label",
        "status_label",
        "pinned_label",
        "published_at",
        "review_label",
        "author",
        "updated_at",
    ]
    list_filter = [
        "kind",
        "status",
        "pinned",
        ReviewOverdueFilter,
        "topics",
        ("author", admin.RelatedOnlyFieldListFilter),
        "published_at",
    ]
    search_fields = ["title", "summary", "body"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    list_select_related = ["author", "last_review__reviewer"]
    inlines = [RecommendedArticleInline, ReferenceInline]
    filter_horizontal = ["topics"]
    radio_fields = {"kind": admin.HORIZONTAL}
    actions = ["publish_now", "unpublish"]
    object_history_template = "admin/articles/article/object_history.html"
    object_history_list_template = "admin/articles/article/object_history_list.html"
    object_history_form_template = "admin/articles/article/object_history_form.html"

    @admin.display(description="status", ordering="status")
    def status_label(self, article):
        if article.is_scheduled:
            return "Scheduled"
        return article.get_status_display()

    @admin.display(description="kind", ordering="kind")
    def kind_label(self, article):
        return article.get_kind_display()

    @admin.display(description="pinned", ordering="pinned", boolean=True)
    def pinned_label(self, article):
        return article.pinned

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("author", "last_review__reviewer")
            .annotate(
                changes_waiting=Exists(Revision.objects.pending().filter(article=OuterRef("pk"))),
                review_waiting=Exists(MedicalReview.objects.open().filter(article=OuterRef("pk"))),
            )
        )

    @admin.display(description="medical review · next due", ordering="next_review_due")
    def review_label(self, article):
        """Where the article stands in the review workflow, and when its next review is due."""
        status = review_status(article)
        if status is None:
            return "—"
        if getattr(article, "review_waiting", False):
            text = "Review requested"
        elif getattr(article, "changes_waiting", False):
            text = "Changes waiting for review"
        elif status.state == "reviewed":
            text = f"Reviewed {formats.date_format(status.reviewed_on, 'j M Y')}"
        elif status.state == "updated":
            text = "Changed since review"
        else:
            text = "Not reviewed"
        if article.next_review_due:
            due = formats.date_format(article.next_review_due, "j M Y")
            overdue = " (overdue)" if article.review_overdue else ""
            return format_html("{}<br>next due {}{}", text, due, overdue)
        return text

    @admin.display(description="review status")
    def review_state(self, article):
        """The change form's summary of the review, with what an editor can do next."""
        if article is None or article.pk is None:
            return "Save the article first; then request a medical review."
        return review_panel_text(article)

    def get_readonly_fields(self, request, obj=None):
        readonly = [*super().get_readonly_fields(request, obj), "review_state"]
        if obj is not None and not request.user.is_superuser:
            # Leaving the rule (no longer medical, or a site page) would let the text change unreviewed.
            if obj.medical and obj.kind == Article.Kind.ARTICLE:
                readonly.append("medical")
                if review_workflow.is_held(obj):
                    readonly.append("kind")
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def get_object(self, request, object_id, from_field=None):
        # The change page asks twice (its review panel, then Django's form): read once.
        key = (str(object_id), from_field)
        kept = getattr(request, "_article_for_change", None)
        if kept is not None and kept[0] == key:
            return kept[1]
        article = super().get_object(request, object_id, from_field)
        request._article_for_change = (key, article)
        if article is not None:
            revision = review_workflow.pending_revision(article)
            if revision is not None:
                # Editors go on with the changes waiting for review, not the published text.
                article.title, article.summary, article.body = (
                    revision.title,
                    revision.summary,
                    revision.body,
                )
            article.pending_revision = revision
        return article

    def _is_page(self, request, obj):
        if obj is not None:
            return obj.is_page
        return request.GET.get("kind") == Article.Kind.PAGE

    def get_fieldsets(self, request, obj=None):
        fieldsets = PAGE_FIELDSETS if self._is_page(request, obj) else ARTICLE_FIELDSETS
        if getattr(request, "article_version", None) is not None:
            # Reverting: the version's topics are restored with its other links, not by the form.
            fieldsets = [
                (name, {**options, "fields": [f for f in options["fields"] if f != "topics"]})
                for name, options in fieldsets
            ]
        return fieldsets

    def get_inlines(self, request, obj):
        # Site pages may recommend articles; references are for medical articles.
        if self._is_page(request, obj):
            return [RecommendedArticleInline]
        return self.inlines

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        # The byline is chosen when the article is written, visibly: the writer's
        # own person if they have one, else the editorial team. Saving never changes it.
        own = Person.objects.filter(user=request.user).first()
        initial.setdefault("author", (own or Person.objects.editorial_team()).pk)
        if initial.get("kind") == Article.Kind.PAGE:
            initial.setdefault("allow_comments", False)
        return initial

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        article = self.get_object(request, object_id) if object_id else None
        if self._is_page(request, article):
            extra_context.setdefault("title", "Change site page" if object_id else "Add site page")
        elif article is not None:
            extra_context.setdefault("review_panel", review_panel(request, article))
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        note = (form.cleaned_data.get("change_note") or "").strip()
        version = getattr(request, "article_version", None)
        if version is not None:
            when = formats.date_format(timezone.localtime(version.history_date), "j M Y, H:i")
            note = f"Reverted to the version of {when}" + (f": {note}" if note else "")
        live = Article.objects.filter(pk=obj.pk).first() if change else None
        text_changed = live is None or obj.current_text_digest != live.current_text_digest
        would_hold = (
            live is not None
            and text_changed
            and review_workflow.is_held(live)
            and review_workflow.is_held(obj)
        )
        would_refuse = review_workflow.publication_refusal(obj, live) is not None
        # The superuser's box counts only where the rule would have held the text back.
        override = (
            bool(form.cleaned_data.get("skip_medical_review"))
            and request.user.is_superuser
            and (would_hold or would_refuse)
        )
        if would_hold and not override:
            review_workflow.hold_for_review(obj, live, request.user, note)
            request.review_held = True
            note = "Changes to the text wait for medical review" + (f": {note}" if note else "")
        else:
            self._settle_pending_changes(request, live, text_changed)
        if override:
            note = "Saved without medical review (superuser)" + (f": {note}" if note else "")
        if note:
            obj._change_reason = note[:100]
        # The author is whatever the form says: never filled in or changed behind the editor's back.
        super().save_model(request, obj, form, change)
        self._record_unreviewed(request, obj, live, override)

    def _settle_pending_changes(self, request, live, text_changed):
        """Changes waiting for review are over once the text is saved without waiting."""
        pending = review_workflow.pending_revision(live) if live is not None else None
        if pending is None:
            return
        review_workflow.discard_revision(pending)
        if text_changed:
            message = "The changes that were waiting for medical review are saved with this text."
        else:
            message = (
                "The text is the published text again: the changes waiting for review were "
                "discarded."
            )
        self.message_user(request, message, messages.INFO)

    def _record_unreviewed(self, request, obj, live, override):
        """What reached readers without a review goes in the history and the public review history."""
        if not review_workflow.is_public_medical(obj) or obj.text_is_reviewed:
            return
        forced = override and review_required()
        if live is None or not review_workflow.is_public_medical(live):
            review_workflow.record_unreviewed_publication(
                obj, request.user, override=forced, note=getattr(obj, "_change_reason", "")
            )
        elif obj.text_digest != live.text_digest:
            review_workflow.record_unreviewed_update(
                obj, request.user, override=forced, note=getattr(obj, "_change_reason", "")
            )

    def response_change(self, request, obj):
        if getattr(request, "review_held", False):
            self.message_user(
                request,
                format_html(
                    "Your changes to the title, summary or text are kept as changes waiting for "
                    "medical review: readers still see the reviewed text. "
                    '<a href="{}">Request a medical review</a> if nobody has been asked yet.',
                    reverse_admin("request", obj.pk),
                ),
                messages.WARNING,
            )
        return super().response_change(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The version saved a moment ago was recorded before the inlines were saved.
        history.record_links(form.instance)

    # --- history ---------------------------------------------------------------

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        history.describe_versions(historical_records.object_list)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if not (str(object_id).isdigit() and str(version_id).isdigit()):
            raise Http404("No such version.")
        version = get_object_or_404(Article.history.model, id=object_id, history_id=version_id)
        request.article_version = version
        extra_context = {**(extra_context or {}), "links": history.links_summary(version)}
        with transaction.atomic():
            response = super().history_form_view(request, object_id, version_id, extra_context)
            if request.method == "POST" and response.status_code == 302:
                self._restore_links(request, object_id, version)
        return response

    def _restore_links(self, request, object_id, version):
        article = Article.objects.get(pk=object_id)
        missing = history.restore_links(article, version)
        history.record_links(article)
        if missing:
            self.message_user(
                request,
                "Not restored, as they no longer exist: "
                + ", ".join(f"“{name}”" for name in missing),
                messages.WARNING,
            )

    # --- list actions ------------------------------------------------------------

    @admin.action(description="Publish selected articles now", permissions=["change"])
    def publish_now(self, request, queryset):
        # One save() each, so that every change lands in the history.
        published, refused = 0, []
        for article in queryset:
            before = copy.copy(article)
            article.status = Article.Status.PUBLISHED
            refusal = review_workflow.publication_refusal(article, before)
            if refusal:
                refused.append(refusal)
                continue
            article._change_reason = "Published from the article list"
            article.publish()
            self._record_unreviewed(request, article, before, override=False)
            published += 1
        if published:
            self.message_user(request, f"Published {published} article(s).", messages.SUCCESS)
        for refusal in refused:
            self.message_user(request, f"Not published: {refusal}", messages.ERROR)

    @admin.action(description="Unpublish selected articles (back to draft)", permissions=["change"])
    def unpublish(self, request, queryset):
        for article in queryset:
            article._change_reason = "Unpublished from the article list"
            article.unpublish()
        self.message_user(request, f"Unpublished {len(queryset)} article(s).", messages.SUCCESS)


# People and the review queue have their own modules; importing them registers them.
from . import people_admin  # noqa: E402, F401

admin.site.site_header = "Blog administration"
admin.site.site_title = "Blog admin"
admin.site.index_title = "Articles and comments"
