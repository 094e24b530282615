from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from articles.models import Article

from .text import comment_html

# An IP address or a user agent is still kept (what purge_comment_ips clears).
HOLDS_CONTACT_TRACES = Q(ip_address__isnull=False) | ~Q(user_agent="")


class CommentQuerySet(models.QuerySet):
    def approved(self):
        """What the public may see."""
        return self.filter(status=Comment.Status.APPROVED)

    def pending(self):
        """What waits in the moderation queue."""
        return self.filter(status=Comment.Status.PENDING)

    def public_fields(self):
        """Only the columns a public page shows: email, IP and user agent are never loaded."""
        return self.only(
            "id",
            "article_id",
            "parent_id",
            "thread_id",
            "depth",
            "name",
            "website",
            "body",
            "html",
            "created_at",
            "staff_author_id",
        )


class Comment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        SPAM = "spam", "Spam"
        REJECTED = "rejected", "Rejected"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="replies",
        help_text="The comment this one answers.",
    )
    # The top-level comment of the conversation, so that a page of threads and
    # all their replies load in one query each, however deep they nest.
    thread = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="thread_comments",
        editable=False,
    )
    depth = models.PositiveSmallIntegerField(default=0, editable=False)

    name = models.CharField(max_length=100)
    # Blank only once erase_commenter has removed it; the public form requires it.
    email = models.EmailField(max_length=254, blank=True)
    website = models.URLField(max_length=200, blank=True)
    body = models.TextField()
    # The byline, date and text as readers see them, rendered on save so that
    # a page of comments is one query and a join, not a template per comment.
    html = models.TextField(editable=False, default="")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    hold_reason = models.CharField(
        max_length=300, blank=True, help_text="Why the rules held or flagged this comment."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    moderated_at = models.DateTimeField(null=True, blank=True, editable=False)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderated_comments",
        editable=False,
    )
    ip_address = models.GenericIPAddressField("IP address", null=True, blank=True, editable=False)
    user_agent = models.CharField(max_length=300, blank=True, editable=False)
    # The reader ticked "Email me when my comment is published or someone
    # replies". Nothing is sent until the address is confirmed (subscriptions.py).
    notify = models.BooleanField("email the commenter", default=False, editable=False)
    # Set only when a staff member answers from the admin: the "Editorial team"
    # badge comes from this, never from the name typed into the public form.
    staff_author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="comment_replies",
        editable=False,
        help_text="The staff member who wrote this reply from the admin.",
    )

    objects = CommentQuerySet.as_manager()

    class Meta:
        indexes = [
            # The article page: approved comments of one article in order.
            models.Index(fields=["article", "status", "created_at"]),
            # A comment page's top-level comments, for any page number (comments/threads.py).
            models.Index(
                fields=["article", "status", "created_at", "id"],
                condition=Q(parent__isnull=True),
                name="comment_thread_roots_idx",
            ),
            # The moderation queue: newest pending first.
            models.Index(fields=["status", "-created_at"]),
            # A commenter's comments in any capitalisation (comments/privacy.py).
            models.Index(Lower("email"), name="comment_email_lower_idx"),
            # Comments that still hold an IP address or user agent, by age:
            # purge_comment_ips finds them without reading the others.
            models.Index(
                fields=["created_at"], condition=HOLDS_CONTACT_TRACES, name="comment_traces_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(parent__isnull=True, thread__isnull=True, depth=0)
                | Q(parent__isnull=False, thread__isnull=False, depth__gt=0),
                name="comment_thread_matches_parent",
            ),
        ]
        permissions = [
            ("view_commenter_contact", "Can see commenters' email and IP addresses"),
        ]

    SHOWN_FIELDS = frozenset({"name", "website", "body", "created_at"})

    def __str__(self):
        return f"{self.name}: {self.excerpt(40)}"

    @property
    def is_staff_reply(self):
        return self.staff_author_id is not None

    def get_absolute_url(self):
        return f"{self.article.get_absolute_url()}#comment-{self.pk}"

    def excerpt(self, length=80):
        text = " ".join(self.body.split())
        return text if len(text) <= length else text[: length - 1] + "…"

    def save(self, *args, **kwargs):
        if self.parent_id is None:
            self.thread_id, self.depth = None, 0
        elif self.thread_id is None or self._state.adding:
            parent = self.parent
            self.thread_id = parent.thread_id or parent.pk
            self.depth = parent.depth + 1
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and not set(update_fields) & self.SHOWN_FIELDS:
            return super().save(*args, **kwargs)
        if self.pk is None:
            super().save(*args, **kwargs)  # first, for the id the byline links to
            self.html = comment_html(self)
            return super().save(update_fields=["html"])
        self.html = comment_html(self)
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "html"}
        return super().save(*args, **kwargs)


class DisallowedWord(models.Model):
    """A word or phrase that marks a comment as spam, kept by the moderators."""

    word = models.CharField(
        "word or phrase",
        max_length=100,
        unique=True,
        help_text="Comments containing it, in any capitalisation, go straight to spam.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["word"]
        verbose_name = "disallowed word"

    def __str__(self):
        return self.word

    def clean(self):
        # Before the uniqueness check, so "Cheap  Pills" is found to be "cheap pills".
        self.word = normalise_word(self.word)

    def save(self, *args, **kwargs):
        self.word = normalise_word(self.word)
        super().save(*args, **kwargs)


def normalise_word(word):
    """Lower case, single spaces: how words are stored and matched."""
    return " ".join(word.split()).lower()


def after_bulk_create(comments):
    """Render the html that save() would have for comments saved with bulk_create()."""
    comments = list(comments)
    for comment in comments:
        comment.html = comment_html(comment)
    Comment.objects.bulk_update(comments, ["html"], batch_size=500)


class BlockedSender(models.Model):
    """An email address, email domain or IP network whose comments go straight to spam."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email address"
        DOMAIN = "domain", "Email domain"
        IP = "ip", "IP address or network"

    kind = models.CharField(max_length=6, choices=Kind.choices)
    value = models.CharField(
        max_length=254,
        help_text="An address (ada@example.com), a domain (example.com: its subdomains too) "
        "or an IP network (203.0.113.7, 203.0.113.0/24, 2001:db8:1:2::/64).",
    )
    note = models.CharField(max_length=200, blank=True, help_text="Why, for other moderators.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "blocked sender"
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="blocked_sender_unique"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.value}"

    def clean(self):
        from django.core.exceptions import ValidationError

        from .blocks import normalise_block

        try:
            self.value = normalise_block(self.kind, self.value)
        except ValueError as error:
            raise ValidationError({"value": str(error)}) from error
        duplicate = BlockedSender.objects.filter(kind=self.kind, value=self.value)
        if duplicate.exclude(pk=self.pk).exists():
            raise ValidationError({"value": "This sender is already blocked."})


class Subscription(models.Model):
    """Whether a commenter's address may be emailed. The address itself is not stored here.

    `address_hash` is a keyed hash (subscriptions.address_hash) of the
    normalised address: the address lives only on the commenter's comments,
    so erasing them (erase_commenter) leaves nothing here that names anyone.
    """

    address_hash = models.CharField(max_length=64, unique=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"subscription {self.address_hash[:8]}"

    @property
    def may_email(self):
        return self.confirmed_at is not None and self.unsubscribed_at is None


class Notification(models.Model):
    """One email to send, kept until it is sent: the outbox behind the background tasks.

    Written in the same transaction as the change it reports, so it cannot be
    lost; a task (comments.tasks.send_notification) sends it, and the
    `sent_at` marker and a short claim make a retried or duplicated task a no-op.
    """

    class Kind(models.TextChoices):
        HELD = "held", "Comment held: to the moderators"
        CONFIRM = "confirm", "Confirm address: to the commenter"
        APPROVED = "approved", "Comment published: to the commenter"
        REPLY = "reply", "Reply: to the author of the comment answered"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    # The comment it is about (for a reply, the reply; the recipient is its parent's author).
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="notifications")
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # "sent", "skipped" (nobody to send to any more) or "abandoned" (too many failures).
    outcome = models.CharField(max_length=10, blank=True)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "comment"], name="one_notification_per_event"),
        ]
        indexes = [models.Index(fields=["outcome", "next_attempt_at"])]

    def __str__(self):
        return f"{self.kind} about comment {self.comment_id}"
