from adminsortable2.admin import CustomInlineFormSet, SortableAdminBase, SortableInlineAdminMixin
from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from simple_history.admin import SimpleHistoryAdmin

from .models import Article, RecommendedArticle, Reference, Topic


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


@admin.register(Article)
class ArticleAdmin(SortableAdminBase, SimpleHistoryAdmin):
    list_display = [
        "title",
        "status_label",
        "published_at",
        "next_review_due",
        "author",
        "updated_at",
    ]
    list_filter = ["status", ReviewOverdueFilter, "topics", "author", "published_at"]
    search_fields = ["title", "summary", "body"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    list_select_related = ["author"]
    inlines = [RecommendedArticleInline, ReferenceInline]
    filter_horizontal = ["topics"]
    actions = ["publish_now", "unpublish"]
    history_list_display = ["status"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "body", "topics"]}),
        ("Publishing", {"fields": ["status", "published_at", "author", "allow_comments"]}),
        (
            "Medical review",
            {"fields": ["reviewed_by", "last_reviewed_on", "next_review_due", "disclaimer"]},
        ),
    ]

    @admin.display(description="status", ordering="status")
    def status_label(self, article):
        if article.is_scheduled:
            return "Scheduled"
        return article.get_status_display()

    def save_model(self, request, obj, form, change):
        if obj.author_id is None and request.user.is_staff:
            obj.author = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Publish selected articles now", permissions=["change"])
    def publish_now(self, request, queryset):
        # One save() each, so that every change lands in the history.
        for article in queryset:
            article.publish()
        self.message_user(request, f"Published {len(queryset)} article(s).", messages.SUCCESS)

    @admin.action(description="Unpublish selected articles (back to draft)", permissions=["change"])
    def unpublish(self, request, queryset):
        for article in queryset:
            article.unpublish()
        self.message_user(request, f"Unpublished {len(queryset)} article(s).", messages.SUCCESS)


admin.site.site_header = "Blog administration"
admin.site.site_title = "Blog admin"
admin.site.index_title = "Articles and comments"
