"""The Editors group's permissions, listed once for every migration that sets the group up."""

from site_project.roles import ensure_group

EDITOR_MODELS = ("article", "recommendedarticle", "topic", "reference")
EDITOR_PERMISSIONS = [
    f"articles.{action}_{model}"
    for model in EDITOR_MODELS
    for action in ("add", "change", "delete", "view")
] + ["articles.view_historicalarticle"]


def ensure_editors(apps):
    """Give Editors exactly the permissions above whose model exists at this migration.

    A data migration sees the models as they were when it was written, so an early
    migration grants what existed then and a later one extends the group.
    """
    existing = {model._meta.model_name for model in apps.get_app_config("articles").get_models()}
    available = [
        permission
        for permission in EDITOR_PERMISSIONS
        if permission.partition("_")[2] in existing
    ]
    return ensure_group(apps, "Editors", available)
