"""The Medical reviewers group; Editors manage people and request reviews (articles/roles.py)."""

from django.db import migrations

from articles.roles import EDITOR_PERMISSIONS, MEDICAL_REVIEWERS, ensure_editors, ensure_medical_reviewers
from site_project.roles import ensure_group

EDITORS_BEFORE = [
    permission
    for permission in EDITOR_PERMISSIONS
    if "_person" not in permission and "_medicalreview" not in permission
]


def grant(apps, schema_editor):
    ensure_editors(apps)
    ensure_medical_reviewers(apps)


def revoke(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=MEDICAL_REVIEWERS).delete()
    ensure_group(apps, "Editors", EDITORS_BEFORE)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0014_author_is_a_person"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
