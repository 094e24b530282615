from adminsortable2.admin import CustomInlineFormSet, SortableAdminBase, SortableInlineAdminMixin
from django import forms
from django.contrib import admin, messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import formats, timezone
from simple_history.admin import SimpleHistoryAdmin

from . import history
from .images import ImageRefused, clean_upload
from .models import Article, RecommendedArticle, Reference, Topic
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
    title = "medical review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue for review"), ("unreviewed", "Never reviewed")]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.review_overdue()
        if self.value() == "unreviewed":
            return queryset.filter(last_reviewed_on__isnull=True)
        return queryset


class ArticleForm(forms.ModelForm):
    """The article form: the editor widget, a safe featured image and a note for the history."""

    change_note = forms.CharField(
        label="Note for the history",
        max_length=100,
        required=False,
        help_text="Optional: why you made this change, shown on the History page.",
    )

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
            self.fields["author"].empty_label = "The editorial team"

    def clean_kind(self):
        return self.cleaned_data.get("kind") or self.instance.kind or Article.Kind.ARTICLE

    def clean_featured_image(self):
        image = self.cleaned_data.get("featured_image")
        if not image or not hasattr(image, "content_type"):
            return image  # unchanged, cleared, or nothing chosen
        try:
            cleaned = clean_upload(image)
        except ImageRefused as refused:
            raise forms.ValidationError(str(refused)) from None
        # Stored re-encoded, without the original's metadata, under a name of ours.
        return SimpleUploadedFile(cleaned.filename, cleaned.data, f"image/{cleaned.extension}")


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
        {"fields": ["reviewed_by", "last_reviewed_on", "next_review_due", "disclaimer"]},
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
        "pinned",
        "published_at",
        "next_review_due",
        "author",
        "updated_at",
    ]
    list_filter = [
        "kind",
        "status",
        "pinned",
        ReviewOverdueFilter,
        "topics",
        "author",
        "published_at",
    ]
    search_fields = ["title", "summary", "body"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    list_select_related = ["author"]
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
        # The byline is chosen when the article is written, visibly; emptying it
        # gives "By the editorial team". Saving never changes it after that.
        initial.setdefault("author", request.user.pk)
        if initial.get("kind") == Article.Kind.PAGE:
            initial.setdefault("allow_comments", False)
        return initial

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = extra_context or {}
        article = self.get_object(request, object_id) if object_id else None
        if self._is_page(request, article):
            extra_context.setdefault("title", "Change site page" if object_id else "Add site page")
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        note = (form.cleaned_data.get("change_note") or "").strip()
        version = getattr(request, "article_version", None)
        if version is not None:
            when = formats.date_format(timezone.localtime(version.history_date), "j M Y, H:i")
            note = f"Reverted to the version of {when}" + (f": {note}" if note else "")
        if note:
            obj._change_reason = note[:100]
        # The author is whatever the form says: never filled in or changed behind the editor's back.
        super().save_model(request, obj, form, change)

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
        for article in queryset:
            article._change_reason = "Published from the article list"
            article.publish()
        self.message_user(request, f"Published {len(queryset)} article(s).", messages.SUCCESS)

    @admin.action(description="Unpublish selected articles (back to draft)", permissions=["change"])
    def unpublish(self, request, queryset):
        for article in queryset:
            article._change_reason = "Unpublished from the article list"
            article.unpublish()
        self.message_user(request, f"Unpublished {len(queryset)} article(s).", messages.SUCCESS)


admin.site.site_header = "Blog administration"
admin.site.site_title = "Blog admin"
admin.site.index_title = "Articles and comments"
