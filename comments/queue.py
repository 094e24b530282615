"""The moderation queue's rows: one click to approve, mark as spam, reject, reply or block.

Each row of the changelist carries small POST buttons to views that
CommentAdmin adds with get_urls() (STYLE 12): GET shows a confirmation page,
POST acts through comments.moderation.moderate(), behind the admin's login,
permissions and token CSRF, and redirects only to a safe `next`. The
buttons belong to one form outside the changelist form (HTML's `form`
attribute), because forms cannot nest. comments/static/comments/queue.js
makes the same requests with fetch() and updates the row in place.

Who may read a commenter's email and IP (`comments.view_commenter_contact`)
is also enforced here for the changelist's query string: lookups, searches
and ordering that reach those fields are refused for anyone else.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.validators import MaxLengthValidator
from django.db import transaction
from django.db.models.constants import LOOKUP_SEP
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join, linebreaks
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe

from site_project.context_processors import SITE_NAME

from . import conf
from .blocks import normalise_block, suggested_blocks
from .forms import TextareaField, check_plain_text
from .models import BlockedSender, Comment
from .moderation import moderate
from .text import STAFF_BADGE

CONTACT_PERMISSION = "comments.view_commenter_contact"
# Fields that identify a person, on any model a lookup can reach from a comment.
CONTACT_FIELDS = frozenset({"email", "ip_address", "user_agent", "password"})
BLOCK_PERMISSION = "comments.add_blockedsender"

# The one-click row actions: URL name suffix, status, button label, message.
ROW_ACTIONS = [
    ("approve", Comment.Status.APPROVED, "Approve", "approved"),
    ("spam", Comment.Status.SPAM, "Spam", "marked as spam"),
    ("reject", Comment.Status.REJECTED, "Reject", "rejected"),
]
EDITORIAL_TEAM = STAFF_BADGE


def can_see_contact(request):
    return request.user.has_perm(CONTACT_PERMISSION)


def can_block(request):
    return request.user.has_perm(BLOCK_PERMISSION) and can_see_contact(request)


def reaches_contact(model, lookup):
    """Whether a changelist lookup (`replies__email__startswith`) touches a contact field."""
    for part in lookup.split(LOOKUP_SEP):
        if part in CONTACT_FIELDS:
            return True
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False  # a lookup or transform: the path ends here
        if not field.is_relation or field.related_model is None:
            return False
        model = field.related_model
    return False


def wants_json(request):
    return "application/json" in request.headers.get("Accept", "")


def safe_next(request, fallback):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


class ReplyForm(forms.Form):
    body = TextareaField(
        label="Your reply",
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Please write your reply."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].validators.append(MaxLengthValidator(conf.max_length()))

    def clean_body(self):
        return check_plain_text(self.cleaned_data["body"], multiline=True)


def public_name(user):
    """How a staff member's reply is signed: their full name, else the editorial team."""
    return user.get_full_name().strip() or f"{SITE_NAME} {EDITORIAL_TEAM.lower()}"


def post_staff_reply(parent, user, body):
    """Answer `parent` as the site: the reply is approved at once, and so is `parent`.

    Both go through moderate(), which records who and when and tells the
    reader (if they asked) that their comment is published and answered.
    """
    if parent.depth + 1 >= conf.max_depth():
        raise ValidationError(
            "This conversation is nested as deeply as it can go. Reply to an earlier comment in it."
        )
    with transaction.atomic():
        reply = Comment.objects.create(
            article_id=parent.article_id,
            parent=parent,
            name=public_name(user)[:100],
            email="",
            body=body,
            staff_author=user,
            status=Comment.Status.PENDING,
            hold_reason="Reply from the editorial team.",
        )
        to_approve = [reply] if parent.status == Comment.Status.APPROVED else [parent, reply]
        moderate(to_approve, Comment.Status.APPROVED, user)
    return reply


class QueueAdminMixin:
    """Row actions and contact privacy for CommentAdmin (see the module docstring)."""

    change_list_template = "admin/comments/comment/queue.html"

    class Media:
        css = {"all": ["comments/queue.css"]}
        js = ["comments/queue.js"]

    # Contact privacy: whatever the query string says

    def lookup_allowed(self, lookup, value, request=None):
        if lookup in {"id", "id__exact", "pk"}:
            return True  # the moderators' email links to one row of the queue
        if (request is None or not can_see_contact(request)) and reaches_contact(
            self.model, lookup
        ):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_sortable_by(self, request):
        fields = super().get_sortable_by(request)
        if can_see_contact(request):
            return fields
        return [f for f in fields if f not in CONTACT_FIELDS]

    # The row

    def get_list_display(self, request):
        # One card per row (it reads on a phone as on a desk); a function bound to
        # this request, since Django calls a column with the object alone.
        @admin.display(description="comment")
        def queue_row(comment):
            return self.queue_row(request, comment)

        return [queue_row]

    def get_list_display_links(self, request, list_display):
        return None  # each card has its own "Edit" link

    def queue_row(self, request, comment):
        contact = ""
        if can_see_contact(request):
            contact = format_html(
                '<span class="queue-contact">{}{}</span>',
                comment.email or "no email",
                format_html(" · {}", comment.ip_address) if comment.ip_address else "",
            )
        badge = (
            format_html('<span class="staff-badge">{}</span>', EDITORIAL_TEAM)
            if comment.staff_author_id
            else ""
        )
        reason = (
            format_html(
                '<p class="queue-reason"><span>Why held:</span> {}</p>', comment.hold_reason
            )
            if comment.hold_reason
            else ""
        )
        parent = ""
        if comment.parent_id:
            parent = format_html(
                '<p class="queue-parent">In reply to <strong>{}</strong>: “{}”</p>',
                comment.parent.name,
                comment.parent.excerpt(120),
            )
        return format_html(
            '<div class="queue-item" id="queue-comment-{pk}" data-comment="{pk}"'
            ' data-status="{status}">'
            '<p class="queue-meta"><strong class="queue-name">{name}</strong>{badge} {contact}'
            '<span class="queue-on">on <a href="{article_url}">{article}</a></span>'
            ' <span class="queue-age"><time datetime="{iso}" title="{exact}">{age}</time></span>'
            ' <span class="queue-status queue-status-{status}" data-status-label>{status_label}</span>'
            "</p>{reason}{parent}"
            '<div class="queue-body">{body}</div>'
            '<div class="queue-actions">{actions}</div>'
            "</div>",
            pk=comment.pk,
            status=comment.status,
            status_label=comment.get_status_display(),
            name=comment.name,
            badge=badge,
            contact=contact,
            article_url=comment.article.get_absolute_url(),
            article=comment.article.title,
            iso=comment.created_at.isoformat(),
            exact=comment.created_at.strftime("%d %b %Y, %H:%M"),
            age=naturaltime(comment.created_at),
            reason=reason,
            parent=parent,
            # linebreaks() escapes the reader's text itself (autoescape=True).
            body=mark_safe(linebreaks(comment.body, autoescape=True)),  # noqa: S308
            actions=self._row_actions(request, comment),
        )

    def _row_actions(self, request, comment):
        opts = self.model._meta
        buttons = format_html_join(
            "",
            '<button type="submit" class="button queue-action" form="queue-row-action"'
            ' formaction="{}" data-action="{}"{}>{}</button>',
            (
                (
                    reverse(f"admin:comments_comment_{name}", args=[comment.pk]),
                    name,
                    mark_safe(' disabled aria-disabled="true"') if comment.status == status else "",
                    label,
                )
                for name, status, label, _ in ROW_ACTIONS
            ),
        )
        links = [
            format_html(
                '<a class="queue-link" data-action="reply" href="{}">Reply</a>',
                reverse("admin:comments_comment_reply", args=[comment.pk]),
            )
            if comment.depth + 1 < conf.max_depth()
            else "",
            format_html(
                '<a class="queue-link" data-action="block" href="{}" data-blocks="{}">Block sender…</a>',
                reverse("admin:comments_comment_block", args=[comment.pk]),
                json.dumps(
                    [
                        [kind, value, BlockedSender.Kind(kind).label]
                        for kind, value in suggested_blocks(comment)
                    ]
                ),
            )
            if can_block(request) and (comment.email or comment.ip_address)
            else "",
            format_html(
                '<a class="queue-link" href="{}">Edit</a>',
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[comment.pk]),
            ),
        ]
        return format_html("{}{}", buttons, format_html_join("", "{}", ((link,) for link in links)))

    # The views behind the buttons

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(function)

        urls = [
            path(
                f"<path:object_id>/{name}/",
                view(self.row_action_view),
                {"action": name},
                name=f"comments_comment_{name}",
            )
            for name, *_ in ROW_ACTIONS
        ]
        urls += [
            path(
                "<path:object_id>/reply/",
                view(self.reply_view),
                name="comments_comment_reply",
            ),
            path(
                "<path:object_id>/block/",
                view(self.block_view),
                name="comments_comment_block",
            ),
        ]
        return urls + super().get_urls()

    def _comment_or_404(self, request, object_id):
        comment = (
            self.get_queryset(request)
            .select_related("article", "parent")
            .filter(pk=unquote(object_id))
            .first()
            if str(object_id).isdecimal()
            else None
        )
        if comment is None:
            raise Http404("No such comment.")
        return comment

    def _page(self, request, template, comment, **context):
        return TemplateResponse(
            request,
            f"admin/comments/comment/{template}",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "comment": comment,
                "title": context.pop("title"),
                "next": safe_next(request, ""),
                "contact": can_see_contact(request),
                **context,
            },
        )

    def _done(self, request, comment, message, status=200, **data):
        if wants_json(request):
            return JsonResponse(
                {
                    "ok": status == 200,
                    "message": message,
                    "status": comment.status,
                    "status_label": comment.get_status_display(),
                    **data,
                },
                status=status,
            )
        self.message_user(request, message, messages.SUCCESS if status == 200 else messages.ERROR)
        return redirect(safe_next(request, reverse("admin:comments_comment_changelist")))

    def row_action_view(self, request, object_id, action):
        comment = self._comment_or_404(request, object_id)
        if not self.has_change_permission(request, comment):
            raise PermissionDenied
        _, status, label, done = next(a for a in ROW_ACTIONS if a[0] == action)
        if request.method != "POST":
            return self._page(
                request,
                "row_action.html",
                comment,
                title=f"{label}: comment by {comment.name}",
                label=label,
                action_url=request.path,
            )
        moderate(comment, status, request.user)
        return self._done(request, comment, f"Comment by {comment.name} {done}.")

    def reply_view(self, request, object_id):
        parent = self._comment_or_404(request, object_id)
        if not self.has_change_permission(request, parent):
            raise PermissionDenied
        form = ReplyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                reply = post_staff_reply(parent, request.user, form.cleaned_data["body"])
            except ValidationError as error:
                form.add_error("body", error)
            else:
                parent.refresh_from_db(fields=["status"])
                return self._done(
                    request,
                    parent,
                    f"Your reply to {parent.name} is published.",
                    reply_id=reply.pk,
                    reply_url=reply.get_absolute_url(),
                    reply_name=reply.name,
                )
        if request.method == "POST" and wants_json(request):
            errors = [str(e) for e in form.errors.get("body", [])] or ["The reply was not sent."]
            return self._done(request, parent, " ".join(errors), status=400)
        return self._page(
            request,
            "reply.html",
            parent,
            title=f"Reply to {parent.name}",
            form=form,
            signed_as=public_name(request.user),
        )

    def block_view(self, request, object_id):
        comment = self._comment_or_404(request, object_id)
        if not can_block(request):
            raise PermissionDenied
        choices = suggested_blocks(comment)
        if request.method == "POST":
            kind = request.POST.get("kind", "")
            value = dict(choices).get(kind)
            if value is None:
                return self._done(request, comment, "Choose what to block.", status=400)
            value = normalise_block(kind, value)
            block, created = BlockedSender.objects.get_or_create(
                kind=kind,
                value=value,
                defaults={"created_by": request.user, "note": f"From comment #{comment.pk}."},
            )
            if request.POST.get("mark_spam", "1") == "1" and comment.status != Comment.Status.SPAM:
                moderate(comment, Comment.Status.SPAM, request.user)
            what = f"{block.get_kind_display().lower()} {block.value}"
            message = f"Blocked {what}." if created else f"{what.capitalize()} was already blocked."
            return self._done(request, comment, message)
        return self._page(
            request,
            "block.html",
            comment,
            title=f"Block the sender of comment by {comment.name}",
            choices=[(kind, BlockedSender.Kind(kind).label, value) for kind, value in choices],
        )


class BlockedSenderAdmin(admin.ModelAdmin):
    """The blocked senders: Moderators only (they name people, so contact permission too)."""

    list_display = ["value", "kind", "note", "created_at", "created_by"]
    list_filter = ["kind"]
    search_fields = ["value", "note"]
    fields = ["kind", "value", "note"]

    def _allowed(self, request):
        return can_see_contact(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self._allowed(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request) and super().has_delete_permission(request, obj)

    def has_module_permission(self, request):
        return self._allowed(request) and super().has_module_permission(request)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
