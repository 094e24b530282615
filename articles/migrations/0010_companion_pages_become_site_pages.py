"""The two companion pages load_guide published become site pages, and the guide is pinned.

"How we review medical content" and "How comments are moderated" were
published as articles (listed, with the medical disclaimer, the review notice
and a comment form); they are site pages, linked from the footer, with
comments off. The guide stays an article and keeps recommending them. What
load_guide now makes on a fresh site, done here for a site that has them.
"""

from django.db import migrations

COMPANION_SLUGS = ["how-we-review-medical-content", "how-comments-are-moderated"]
GUIDE_SLUG = "isotretinoin-journey-20-mg-40-mg-and-beyond"


def make_site_pages(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    Article.objects.filter(slug__in=COMPANION_SLUGS).update(kind="page", allow_comments=False)
    Article.objects.filter(slug=GUIDE_SLUG).update(pinned=True)


def make_articles_again(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    Article.objects.filter(slug__in=COMPANION_SLUGS).update(kind="article", allow_comments=True)
    Article.objects.filter(slug=GUIDE_SLUG).update(pinned=False)


class Migration(migrations.Migration):
    dependencies = [("articles", "0009_pages_featured_image_pinned")]

    operations = [migrations.RunPython(make_site_pages, make_articles_again)]
