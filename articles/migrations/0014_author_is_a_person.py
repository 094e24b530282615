"""The byline's author is a Person (filled in by 0013); the free-text review fields go.

What they said is in `legacy_review_note` (0013). Reviews are now recorded by
the reviewers themselves (articles/review_workflow.py).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("articles", "0013_authors_become_people")]

    operations = [
        migrations.RemoveField(model_name="article", name="author"),
        migrations.RemoveField(model_name="historicalarticle", name="author"),
        migrations.RemoveField(model_name="article", name="reviewed_by"),
        migrations.RemoveField(model_name="historicalarticle", name="reviewed_by"),
        migrations.RemoveField(model_name="article", name="last_reviewed_on"),
        migrations.RemoveField(model_name="historicalarticle", name="last_reviewed_on"),
        migrations.RenameField(model_name="article", old_name="author_person", new_name="author"),
        migrations.RenameField(
            model_name="historicalarticle", old_name="author_person", new_name="author"
        ),
        migrations.AlterField(
            model_name="article",
            name="author",
            field=models.ForeignKey(
                help_text="Named in the byline, linked to their page; “The editorial team” signs “By the editorial team”. Saving never changes it.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="articles",
                to="articles.person",
            ),
        ),
        migrations.AlterField(
            model_name="historicalarticle",
            name="author",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="Named in the byline, linked to their page; “The editorial team” signs “By the editorial team”. Saving never changes it.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="articles.person",
            ),
        ),
    ]
