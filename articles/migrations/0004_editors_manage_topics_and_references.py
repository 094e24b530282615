from django.db import migrations

from articles.roles import ensure_editors


def extend_editors(apps, schema_editor):
    ensure_editors(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0003_topics_references_disclaimer"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(extend_editors, migrations.RunPython.noop)]
