"""Authors become people; the old free-text review fields become a legacy note.

- The editorial team is made (a Person of kind "team"). An article without an
  author was signed "By the editorial team": it now has the team as author,
  so that every byline links to a page and "the editorial team" is one value.
- Every user who is an article's author, now or in any saved version, gets a
  Person linked to their account, named by their full name (or, when they
  have none, by the username their byline already showed; editors can rename
  them). Versions keep pointing at the same people, so the History page and
  reverting still name the right author.
- `reviewed_by` and `last_reviewed_on` were typed by anyone who could edit an
  article; nothing recorded that a review happened. They are kept word for
  word in `legacy_review_note` (shown to staff), not turned into a review.
- Each article gets the digest of its text (the review workflow compares it
  with the text a reviewer approved); site pages are not medical content.
"""

from django.conf import settings
from django.db import migrations
from django.utils import formats
from django.utils.text import slugify

from articles.reviews import text_digest

TEAM_NAME = "The editorial team"
TEAM_SLUG = "editorial-team"


def _free_slug(Person, wanted):
    slug, n = wanted, 2
    while Person.objects.filter(slug=slug).exists():
        slug, n = f"{wanted}-{n}", n + 1
    return slug


def legacy_note(article):
    said = []
    if article.reviewed_by.strip():
        said.append(f"reviewer “{article.reviewed_by.strip()}”")
    if article.last_reviewed_on:
        said.append(f"last reviewed {formats.date_format(article.last_reviewed_on, 'j F Y')}")
    if not said:
        return ""
    return (
        "Typed in the old free-text fields before reviews were recorded ("
        + ", ".join(said)
        + "). Not a recorded review: ask a medical reviewer to review the article."
    )


def forwards(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    HistoricalArticle = apps.get_model("articles", "HistoricalArticle")
    Person = apps.get_model("articles", "Person")
    User = apps.get_model(settings.AUTH_USER_MODEL)

    team = Person.objects.filter(kind="team").first()
    if team is None:
        team = Person.objects.create(
            kind="team", name=TEAM_NAME, slug=_free_slug(Person, TEAM_SLUG)
        )

    user_ids = set(Article.objects.exclude(author=None).values_list("author_id", flat=True))
    user_ids |= set(
        HistoricalArticle.objects.exclude(author=None).values_list("author_id", flat=True)
    )
    people = {}
    for user in User.objects.filter(pk__in=user_ids).order_by("pk"):
        person = Person.objects.filter(user_id=user.pk).first()
        if person is None:
            name = f"{user.first_name} {user.last_name}".strip() or user.username
            person = Person.objects.create(
                name=name, slug=_free_slug(Person, slugify(name)[:140] or "person"), user_id=user.pk
            )
        people[user.pk] = person.pk

    for article in Article.objects.all():
        article.author_person_id = people.get(article.author_id, team.pk) if article.author_id else team.pk
        article.medical = article.kind != "page"
        article.legacy_review_note = legacy_note(article)
        article.text_digest = text_digest(article.title, article.summary, article.body)
        article.text_updated_at = article.updated_at
        article.save(
            update_fields=[
                "author_person",
                "medical",
                "legacy_review_note",
                "text_digest",
                "text_updated_at",
            ]
        )
    # Versions: the team where the byline was "the editorial team"; nobody for a deleted user.
    HistoricalArticle.objects.filter(author=None).update(author_person=team.pk)
    for user_id, person_id in people.items():
        HistoricalArticle.objects.filter(author_id=user_id).update(author_person=person_id)
    HistoricalArticle.objects.filter(kind="page").update(medical=False)


def backwards(apps, schema_editor):
    Article = apps.get_model("articles", "Article")
    HistoricalArticle = apps.get_model("articles", "HistoricalArticle")
    Person = apps.get_model("articles", "Person")
    users = dict(Person.objects.exclude(user=None).values_list("pk", "user_id"))
    for article in Article.objects.all():
        article.author_id = users.get(article.author_person_id)
        article.save(update_fields=["author"])
    HistoricalArticle.objects.update(author=None)
    for person_id, user_id in users.items():
        HistoricalArticle.objects.filter(author_person=person_id).update(author=user_id)


class Migration(migrations.Migration):
    dependencies = [("articles", "0012_people_and_medical_reviews")]

    operations = [migrations.RunPython(forwards, backwards)]
