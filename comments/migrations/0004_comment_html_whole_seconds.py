from django.db import migrations

from comments.text import comment_html


def rerender(apps, schema_editor):
    """Stored comment HTML again: its <time datetime> now has whole seconds, as HTML requires."""
    Comment = apps.get_model("comments", "Comment")
    pks = list(Comment.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), 500):
        batch = list(Comment.objects.filter(pk__in=pks[start : start + 500]))
        for comment in batch:
            comment.html = comment_html(comment)
        Comment.objects.bulk_update(batch, ["html"])


class Migration(migrations.Migration):
    dependencies = [("comments", "0003_comment_html")]

    operations = [migrations.RunPython(rerender, migrations.RunPython.noop)]
