"""People in the admin: authors, medical reviewers and the editorial team.

Who a person is shapes what readers trust, so a person linked to a staff
account (a reviewer, an editor who signs articles) or with recorded reviews
can be changed only by that account or a superuser: an editor cannot rename
a reviewer, nor give a reviewer's reviews to someone else's name. Linking a
person to an account is a superuser's job (it is what lets a reviewer record
reviews as that person).
"""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q
from django.utils.html import format_html

from .images import cleaned_form_upload
from .people import Person
from .reviews import MedicalReview
from .roles import MEDICAL_REVIEWERS


class PersonForm(forms.ModelForm):
    registration_url = forms.URLField(
        label="Registration link",
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=Person._meta.get_field("registration_url").help_text,
    )

    class Meta:
        model = Person
        fields = "__all__"
        widgets = {
            "bio": forms.Textarea(attrs={"rows": 5}),
            "profile_urls": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_photo(self):
        return cleaned_form_upload(self.cleaned_data.get("photo"))


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    form = PersonForm
    list_display = ["name", "credentials", "role", "kind_label", "articles_signed", "reviewer"]
    search_fields = ["name", "credentials", "role"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "credentials", "role", "bio", "photo"]}),
        (
            "Links readers can check",
            {"fields": ["registration", "registration_url", "profile_urls"]},
        ),
        ("Staff account", {"fields": ["kind", "user"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                signed=Count("articles", distinct=True),
                has_reviews=Exists(MedicalReview.objects.decided().filter(reviewer=OuterRef("pk"))),
                is_reviewer=Exists(
                    get_user_model()
                    .groups.through.objects.filter(
                        user_id=OuterRef("user_id"), group__name=MEDICAL_REVIEWERS
                    )
                    .filter(Q(user__is_active=True))
                ),
            )
        )

    @admin.display(description="kind", ordering="kind")
    def kind_label(self, person):
        return "Organisation" if person.is_team else "Person"

    @admin.display(description="articles signed", ordering="signed")
    def articles_signed(self, person):
        return person.signed

    @admin.display(description="medical reviewer", boolean=True)
    def reviewer(self, person):
        return person.is_reviewer

    def get_readonly_fields(self, request, obj=None):
        readonly = ["kind"]
        if not request.user.is_superuser:
            readonly.append("user")
        return readonly

    def _is_guarded(self, obj):
        has_reviews = getattr(obj, "has_reviews", None)
        if has_reviews is None:
            has_reviews = MedicalReview.objects.decided().filter(reviewer=obj).exists()
        return obj.user_id is not None or has_reviews

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        if obj is None or request.user.is_superuser:
            return True
        if self._is_guarded(obj):
            return obj.user_id == request.user.pk
        # Reviewers may change their own profile only; editors the people nobody owns.
        return request.user.has_perm("articles.change_article")

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        if obj is None:
            return True
        if obj.is_team:
            return False
        return request.user.is_superuser or not self._is_guarded(obj)

    def view_on_site(self, obj):
        return obj.get_absolute_url()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.user_id and not request.user.is_superuser:
            context["subtitle"] = format_html(
                "{} is linked to a staff account: only they or a superuser can change it.", obj.name
            )
        return super().render_change_form(request, context, add, change, form_url, obj)
