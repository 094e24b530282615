from django.db import migrations

from site_project.roles import ensure_group

BEFORE = [
    "comments.view_comment",
    "comments.change_comment",
    "comments.view_commenter_contact",
    "comments.add_disallowedword",
    "comments.change_disallowedword",
    "comments.delete_disallowedword",
    "comments.view_disallowedword",
]
# Moderators keep the list of blocked senders too. Nothing else is added: the
# outbox (Notification) and the subscriptions are the system's, not a role's.
AFTER = [
    *BEFORE,
    "comments.add_blockedsender",
    "comments.change_blockedsender",
    "comments.delete_blockedsender",
    "comments.view_blockedsender",
]


def grant(apps, schema_editor):
    ensure_group(apps, "Moderators", AFTER)


def revoke(apps, schema_editor):
    ensure_group(apps, "Moderators", BEFORE)


class Migration(migrations.Migration):
    dependencies = [
        ("comments", "0005_blocks_subscriptions_notifications_staff_replies"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
