"""Each article's newest version gets the links it has now (recommended articles, references, topics).

Versions saved from now on keep their links (articles/history.py). For the
existing ones only the newest can be known: it is the article as it stands,
so the next change is described and can be reverted link by link. Older
versions keep links = None ("not recorded"), which the History page and
reverting treat as unknown rather than as "no links".
"""

from django.db import migrations, models


def snapshot(article, RecommendedArticle, Reference):
    links = RecommendedArticle.objects.filter(article=article).select_related("recommended")
    return {
        "recommended": [
            {"id": link.recommended_id, "title": link.recommended.title}
            for link in links.order_by("position", "id")
        ],
        "references": [
            {"id": r.id, "title": r.title, "url": r.url, "doi": r.doi, "pubmed_id": r.pubmed_id}
            for r in Reference.objects.filter(article=article).order_by("position", "id")
        ],
        "topics": [{"id": t.id, "name": t.name} for t in article.topics.order_by("name")],
    }


def keep_links_on_newest_versions(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    HistoricalArticle = apps.get_model("articles", "HistoricalArticle")
    RecommendedArticle = apps.get_model("articles", "RecommendedArticle")
    Reference = apps.get_model("articles", "Reference")
    for article in Article.objects.all():
        newest = (
            HistoricalArticle.objects.filter(id=article.pk)
            .order_by("-history_date", "-history_id")
            .first()
        )
        if newest is not None and newest.links is None:
            newest.links = snapshot(article, RecommendedArticle, Reference)
            newest.save(update_fields=["links"])


class Migration(migrations.Migration):
    dependencies = [("articles", "0010_companion_pages_become_site_pages")]

    operations = [
        migrations.AddField(
            model_name="historicalarticle",
            name="links",
            field=models.JSONField(blank=True, editable=False, help_text="Recommended articles, references and topics of this version; empty for versions saved before links were recorded.", null=True),
        ),
        # Reversed, nothing to undo: the column goes with the AddField above.
        migrations.RunPython(keep_links_on_newest_versions, migrations.RunPython.noop),
    ]
