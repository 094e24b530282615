"""The public comment form, with the check that catches spam bots.

The honeypot lives here, beside the fields it protects; the rules about a
valid comment's status live in policy.py.

There is no signed timestamp any more: the page that carries the form is
shared by every reader (and by caches in front of the site), so a time baked
into it says when the copy was made, not when this reader opened it.
"""

import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, URLValidator
from django.utils.functional import cached_property
from django.utils.text import normalize_newlines

from . import conf
from .models import Comment

# Characters that reorder how text is displayed (Trojan Source, spoofed names).
BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))

REPLY_NOT_ALLOWED = "You can only reply to a published comment on this article."
LONGEST_ID = 2**63 - 1


def check_plain_text(value, *, multiline):
    """Refuse text that only looks like text: invisible, control or reordering characters."""
    for char in value:
        if char in BIDI_CONTROLS:
            raise ValidationError(
                "Please remove the right-to-left or left-to-right override characters.",
                code="bidi",
            )
        if unicodedata.category(char) == "Cc" and not (multiline and char in "\n\t"):
            raise ValidationError("Please remove the control characters.", code="control")
    if not any(not char.isspace() and unicodedata.category(char) != "Cf" for char in value):
        raise ValidationError("Please fill in this field.", code="required")
    return value


class TextareaField(forms.CharField):
    """Text from a textarea, its line breaks counted once, as the reader's browser counted them.

    Browsers send a textarea's line breaks as CRLF while its maxlength counts
    each as one character; normalised before the length check, the limit is
    the one the reader was shown.
    """

    def to_python(self, value):
        return super().to_python(normalize_newlines(value) if isinstance(value, str) else value)


class HttpURLField(forms.URLField):
    default_error_messages = {"invalid": "Enter a web address starting with http:// or https://."}
    default_validators = [URLValidator(schemes=["http", "https"])]


class CommentForm(forms.ModelForm):
    email = forms.EmailField(
        label="Email",
        max_length=254,
        error_messages={
            "required": "Please enter your email address. It will not be published.",
            "invalid": "Enter a valid email address, like name@example.com.",
            "max_length": "Please use an email address under %(limit_value)d characters.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    website = HttpURLField(
        label="Website",
        required=False,
        max_length=200,
        assume_scheme="https",
        error_messages={
            "max_length": "Please use a web address under %(limit_value)d characters.",
        },
        widget=forms.URLInput(attrs={"autocomplete": "url"}),
    )
    reply_to = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=LONGEST_ID,
        widget=forms.HiddenInput,
        error_messages=dict.fromkeys(("invalid", "min_value", "max_value"), REPLY_NOT_ALLOWED),
    )
    notify = forms.BooleanField(
        required=False,
        label="Email me when my comment is published or someone replies",
        help_text="We first send a link to confirm your address; nothing else is sent until "
        "you use it. Every email has a link to stop them.",
    )
    # Invisible to people (see the template); bots that fill every field fill it.
    honeypot = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    class Meta:
        model = Comment
        fields = ["body", "name", "email", "website"]
        labels = {"body": "Comment", "name": "Name"}
        field_classes = {"body": TextareaField}
        widgets = {
            "body": forms.Textarea(attrs={"rows": 8, "cols": 60}),
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
        }
        error_messages = {
            "body": {
                "required": "Please write your comment.",
                "max_length": "Please keep your comment under %(limit_value)d characters "
                "(it has %(show_value)d).",
            },
            "name": {
                "required": "Please enter your name (any name you like).",
                "max_length": "Please keep your name under %(limit_value)d characters.",
            },
        }

    def __init__(self, article, *args, **kwargs):
        self.article = article
        kwargs.setdefault("instance", Comment(article=article))
        super().__init__(*args, **kwargs)
        body = self.fields["body"]
        body.max_length = conf.max_length()
        body.validators.append(MaxLengthValidator(body.max_length))
        body.widget.attrs["maxlength"] = str(body.max_length)

    def clean_body(self):
        return check_plain_text(self.cleaned_data["body"], multiline=True)

    def clean_name(self):
        return check_plain_text(self.cleaned_data["name"], multiline=False)

    def clean_email(self):
        return check_plain_text(self.cleaned_data["email"], multiline=False)

    def clean_website(self):
        website = self.cleaned_data["website"]
        return check_plain_text(website, multiline=False) if website else ""

    def clean_reply_to(self):
        return self._find_parent(self.cleaned_data.get("reply_to"))

    def _find_parent(self, pk):
        """The approved comment of this article that may be answered, or a ValidationError."""
        if pk is None:
            return None
        parent = (
            Comment.objects.approved()
            .filter(article=self.article, pk=pk)
            .only("id", "thread_id", "depth", "article_id", "name")
            .first()
        )
        if parent is None:
            raise ValidationError(REPLY_NOT_ALLOWED, code="invalid_parent")
        if parent.depth + 1 >= conf.max_depth():
            raise ValidationError(
                "This conversation is nested as deeply as it can go. "
                "Please reply to an earlier comment in it.",
                code="too_deep",
            )
        return parent

    @cached_property
    def reply_target(self):
        """The comment being answered, if it may be: shown above the form, kept in it."""
        if self.is_bound:
            return getattr(self, "cleaned_data", {}).get("reply_to")
        try:
            return self._find_parent(self.initial.get("reply_to"))
        except ValidationError:
            return None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("honeypot"):
            raise ValidationError("Your comment could not be sent.", code="honeypot")
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        self.instance.parent = self.cleaned_data.get("reply_to")
        self.instance.notify = bool(self.cleaned_data.get("notify"))
