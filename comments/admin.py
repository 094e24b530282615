from django.contrib import admin, messages
from django.db import models
from django.db.models import Count
from django.template.defaultfilters import pluralize

from articles.models import Article

from .models import BlockedSender, Comment, DisallowedWord
from .moderation import moderate
from .queue import CONTACT_FIELDS, BlockedSenderAdmin, QueueAdminMixin, can_see_contact


class StatusFilter(admin.SimpleListFilter):
    """Status, with the count of each; the queue opens on pending comments."""

    title = "status"
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request, model_admin):
        counts = dict(Comment.objects.order_by().values_list("status").annotate(n=Count("id")))
        return [
            (status.value, f"{status.label} ({counts.get(status.value, 0)})")
            for status in Comment.Status
        ]

    def current(self):
        value = self.value()
        return value if value in {*Comment.Status.values, self.ALL} else Comment.Status.PENDING

    def choices(self, changelist):
        current = self.current()
        for value, label in [*self.lookup_choices, (self.ALL, "All")]:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        current = self.current()
        return queryset if current == self.ALL else queryset.filter(status=current)


class ArticleFilter(admin.SimpleListFilter):
    """By article, loading titles only (the stock filter loads every article body)."""

    title = "article"
    parameter_name = "article"

    def lookups(self, request, model_admin):
        return Article.objects.order_by("title").values_list("pk", "title")

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdecimal() and len(value) < 19:  # beyond that, no such article
            return queryset.filter(article_id=int(value))
        return queryset


# What a moderator may change on a comment; every other field is shown read-only.
MODERATOR_EDITABLE_FIELDS = ("status", "name", "website", "body")


@admin.register(Comment)
class CommentAdmin(QueueAdminMixin, admin.ModelAdmin):
    """The moderation queue (its rows, row actions and contact privacy: comments/queue.py)."""

    list_filter = [StatusFilter, ArticleFilter]
    list_select_related = ["article", "parent"]
    list_per_page = 100
    show_full_result_count = False  # the status filter already shows every count
    ordering = ["-created_at", "-id"]
    actions = ["approve", "mark_as_spam", "reject"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fields = [
        "status",
        "article",
        "parent",
        "name",
        "email",
        "website",
        "body",
        "hold_reason",
        "created_at",
        "moderated_at",
        "moderated_by",
        "ip_address",
        "user_agent",
    ]
    # Moderators may edit the text (to remove personal details) and the status.
    readonly_fields = [field for field in fields if field not in MODERATOR_EDITABLE_FIELDS]

    def get_search_fields(self, request):
        return ["name", "body", "email"] if can_see_contact(request) else ["name", "body"]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return (
            fields if can_see_contact(request) else [f for f in fields if f not in CONTACT_FIELDS]
        )

    def has_add_permission(self, request):
        return False  # comments come from readers, through the form and its rules

    def save_model(self, request, obj, form, change):
        if "status" not in form.changed_data:
            return super().save_model(request, obj, form, change)
        # The text first, then the transition, so that moderate() sees the old status.
        status, obj.status = obj.status, form.initial["status"]
        super().save_model(request, obj, form, change)
        moderate(obj, status, request.user)

    @admin.action(description="Approve selected comments", permissions=["change"])
    def approve(self, request, queryset):
        self._moderate(request, queryset, Comment.Status.APPROVED, "approved")

    @admin.action(description="Mark selected comments as spam", permissions=["change"])
    def mark_as_spam(self, request, queryset):
        self._moderate(request, queryset, Comment.Status.SPAM, "marked as spam")

    @admin.action(description="Reject selected comments", permissions=["change"])
    def reject(self, request, queryset):
        self._moderate(request, queryset, Comment.Status.REJECTED, "rejected")

    def _moderate(self, request, queryset, status, done):
        # One UPDATE, even for "select all 3,000 matching" across pages.
        count = moderate(queryset, status, request.user)
        self.message_user(request, f"{count} comment{pluralize(count)} {done}.", messages.SUCCESS)


admin.site.register(BlockedSender, BlockedSenderAdmin)


@admin.register(DisallowedWord)
class DisallowedWordAdmin(admin.ModelAdmin):
    list_display = ["word", "created_at"]
    search_fields = ["word"]
