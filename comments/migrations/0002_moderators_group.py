from django.db import migrations

from site_project.roles import ensure_group

# Moderate comments and keep the word list; nothing else. The contact
# permission (commenter email and IP) is theirs alone, not the Editors'.
MODERATOR_PERMISSIONS = [
    "comments.view_comment",
    "comments.change_comment",
    "comments.view_commenter_contact",
    "comments.add_disallowedword",
    "comments.change_disallowedword",
    "comments.delete_disallowedword",
    "comments.view_disallowedword",
]


def create_moderators(apps, schema_editor):
    ensure_group(apps, "Moderators", MODERATOR_PERMISSIONS)


def remove_moderators(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Moderators").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_moderators, remove_moderators)]
