from django.contrib import admin, messages
from django.db import models
from django.template.defaultfilters import pluralize

from . import queue_scale
from .models import BlockedSender, Comment, DisallowedWord
from .moderation import moderate
from .queue import CONTACT_FIELDS, BlockedSenderAdmin, QueueAdminMixin, can_see_contact
from .status_counts import status_counts

ARTICLE_TEXT = tuple(
    f"article__{name}" for name in ("summary", "body", "body_html", "toc_html", "disclaimer")
)


class StatusFilter(admin.SimpleListFilter):
    """Status, with the count of each; the queue opens on pending comments."""

    title = "status"
    parameter_name = "status"
    ALL = queue_scale.ALL

    def lookups(self, request, model_admin):
        counts = status_counts()  # kept a few seconds: no count of the whole table per view
        return [
            (status.value, f"{status.label} ({counts.get(status.value, 0)})")
            for status in Comment.Status
        ]

    def current(self):
        return queue_scale.requested_status(self.value())

    def choices(self, changelist):
        current = self.current()
        for value, label in [*self.lookup_choices, (self.ALL, "All")]:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        return queue_scale.with_status(queryset, self.current())


# What a moderator may change on a comment; every other field is shown read-only.
MODERATOR_EDITABLE_FIELDS = ("status", "name", "website", "body")


@admin.register(Comment)
class CommentAdmin(QueueAdminMixin, admin.ModelAdmin):
    """The moderation queue (its rows, row actions and contact privacy: comments/queue.py)."""

    list_filter = [StatusFilter, queue_scale.ArticleFilter]
    show_facets = admin.ShowFacets.NEVER  # facet counts would count the whole table
    list_select_related = ["article", "parent"]
    # Each row carries the whole comment and its one-click actions: fifty keep the
    # first page well under 150 KB (WordPress shows twenty).
    list_per_page = 50
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

    # The queue says what it lists, where Django would say "Select comment to change".
    TITLES = {
        Comment.Status.PENDING: "Comments awaiting moderation",
        Comment.Status.APPROVED: "Approved comments",
        Comment.Status.SPAM: "Comments marked as spam",
        Comment.Status.REJECTED: "Rejected comments",
        queue_scale.ALL: "All comments",
    }

    def changelist_view(self, request, extra_context=None):
        status = queue_scale.requested_status(request.GET.get(StatusFilter.parameter_name))
        context = {"title": self.TITLES[status], **(extra_context or {})}
        return super().changelist_view(request, context)

    def get_queryset(self, request):
        # Each row links its article by title: the article's text stays unread.
        return super().get_queryset(request).defer(*ARTICLE_TEXT)

    def get_search_fields(self, request):
        return ["name", "body", "email"] if can_see_contact(request) else ["name", "body"]

    def get_search_results(self, request, queryset, search_term):
        # Through an index on each database (comments/queue_scale.py); the same matches.
        fields = self.get_search_fields(request)
        queryset = queue_scale.narrow_search(queryset, search_term, fields)
        return super().get_search_results(request, queryset, search_term)

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
