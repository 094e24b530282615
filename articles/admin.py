from adminsortable2.admin import CustomInlineFormSet, SortableAdminBase, SortableInlineAdminMixin
from django.contrib import admin, messages
from simple_history.admin import SimpleHistoryAdmin

from .models import Article, RecommendedArticle


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
    list_filter = ["status", ReviewOverdueFilter, "author", "published_at"]
    search_fields = ["title", "summary", "body"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    list_select_related = ["author"]
    inlines = [RecommendedArticleInline]
    actions = ["publish_now", "unpublish"]
    history_list_display = ["status"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "body"]}),
        ("Publishing", {"fields": ["status", "published_at", "author", "allow_comments"]}),
        (
            "Medical review",
            {"fields": ["reviewed_by", "last_reviewed_on", "next_review_due"]},
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
