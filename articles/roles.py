"""The permissions of the Editors and Medical reviewers groups, listed once for every migration.

Editors write: articles, their links, topics, references and the people who
sign them; they may request a medical review and read every review, but not
record one. Medical reviewers read articles (text, references, versions) and
record their own reviews; they may change their own public profile and
nothing else (articles/people_admin.py limits `change_person` to it; the
review view checks that the reviewer is the person asked).
"""

from site_project.roles import ensure_group

EDITOR_MODELS = ("article", "recommendedarticle", "topic", "reference", "person")
EDITOR_PERMISSIONS = [
    f"articles.{action}_{model}"
    for model in EDITOR_MODELS
    for action in ("add", "change", "delete", "view")
] + [
    "articles.view_historicalarticle",
    # Requesting a review is adding one; deciding it is the reviewer's record_review.
    "articles.add_medicalreview",
    "articles.view_medicalreview",
]

EDITORS = "Editors"
MEDICAL_REVIEWERS = "Medical reviewers"
REVIEWER_PERMISSIONS = [
    "articles.view_article",
    "articles.view_historicalarticle",
    "articles.view_reference",
    "articles.view_medicalreview",
    "articles.record_review",
    "articles.view_person",
    "articles.change_person",
]


def _existing(apps, permissions):
    """The permissions whose model exists at this migration (custom ones go with their model)."""
    models = {
        model._meta.model_name: model for model in apps.get_app_config("articles").get_models()
    }
    custom = {
        codename
        for model in models.values()
        for codename, _ in getattr(model._meta, "permissions", [])
    }
    return [
        permission
        for permission in permissions
        if permission.partition("_")[2] in models or permission.partition(".")[2] in custom
    ]


def ensure_editors(apps):
    """Give Editors exactly the permissions above whose model exists at this migration.

    A data migration sees the models as they were when it was written, so an early
    migration grants what existed then and a later one extends the group.
    """
    return ensure_group(apps, EDITORS, _existing(apps, EDITOR_PERMISSIONS))


def ensure_medical_reviewers(apps):
    """The Medical reviewers group with exactly REVIEWER_PERMISSIONS (see ensure_editors)."""
    return ensure_group(apps, MEDICAL_REVIEWERS, _existing(apps, REVIEWER_PERMISSIONS))
