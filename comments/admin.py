from django.contrib import admin, messages
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.db import models
from django.template.defaultfilters import pluralize
from django.utils.html import format_html

from . import queue
from .models import Comment, DisallowedWord
from .moderation import moderate

CONTACT_PERMISSION = "comments.view_commenter_contact"
CONTACT_FIELDS = ("email", "ip_address", "user_agent")
ARTICLE_TEXT = tuple(
    f"article__{name}" for name in ("summary", "body", "body_html", "toc_html", "disclaimer")
)


def can_see_contact(request):
    return request.user.has_perm(CONTACT_PERMISSION)


class StatusFilter(admin.SimpleListFilter):
    """Status, with the count of each; the queue opens on pending comments."""

    title = "status"
    parameter_name = "status"
    ALL = queue.ALL

    def lookups(self, request, model_admin):
        counts = queue.status_counts()  # kept a few seconds: no count of the whole table per view
        return [
            (status.value, f"{status.label} ({counts.get(status.value, 0)})")
            for status in Comment.Status
        ]

    def current(self):
        return queue.requested_status(self.value())

    def choices(self, changelist):
        current = self.current()
        for value, label in [*self.lookup_choices, (self.ALL, "All")]:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        return queue.with_status(queryset, self.current())


# What a moderator may change on a comment; every other field is shown read-only.
MODERATOR_EDITABLE_FIELDS = ("status", "name", "website", "body")


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """The moderation queue."""

    list_display = ["excerpt", "article_title", "name", "hold_reason", "age", "status"]
    list_display_links = ["excerpt"]
    list_filter = [StatusFilter, queue.ArticleFilter]
    show_facets = admin.ShowFacets.NEVER  # facet counts would count the whole table
    list_select_related = ["article"]
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

    def get_queryset(self, request):
        # Each row links its article by title: the article's text stays unread.
        return super().get_queryset(request).select_related("article").defer(*ARTICLE_TEXT)

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))
        if can_see_contact(request):
            columns[3:3] = ["email", "ip_address"]
        return columns

    def get_search_fields(self, request):
        return ["name", "body", "email"] if can_see_contact(request) else ["name", "body"]

    def get_search_results(self, request, queryset, search_term):
        # Through an index on each database (comments/queue.py); the same matches.
        fields = self.get_search_fields(request)
        queryset = queue.narrow_search(queryset, search_term, fields)
        return super().get_search_results(request, queryset, search_term)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return (
            fields if can_see_contact(request) else [f for f in fields if f not in CONTACT_FIELDS]
        )

    def has_add_permission(self, request):
        return False  # comments come from readers, through the form and its rules

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "status" in form.changed_data:
            moderate(obj, obj.status, request.user)

    @admin.display(description="comment")
    def excerpt(self, obj):
        return obj.excerpt()

    @admin.display(description="article", ordering="article__title")
    def article_title(self, obj):
        return format_html('<a href="{}">{}</a>', obj.article.get_absolute_url(), obj.article)

    @admin.display(description="age", ordering="created_at")
    def age(self, obj):
        return naturaltime(obj.created_at)

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


@admin.register(DisallowedWord)
class DisallowedWordAdmin(admin.ModelAdmin):
    list_display = ["word", "created_at"]
    search_fields = ["word"]
