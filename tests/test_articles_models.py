from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from articles.models import Article, RecommendedArticle


@pytest.mark.django_db
class TestPublishedRule:
    def test_only_published_articles_whose_time_has_come_are_visible(self, make_article):
        visible = make_article(slug="visible")
        make_article(slug="draft", status=Article.Status.DRAFT)
        make_article(slug="scheduled", published_at=timezone.now() + timedelta(hours=1))

        assert list(Article.objects.published()) == [visible]
        assert visible.is_published

    def test_a_scheduled_article_appears_by_itself_when_its_time_comes(self, make_article):
        scheduled = make_article(published_at=timezone.now() + timedelta(minutes=5))
        assert not scheduled.is_published and scheduled.is_scheduled

        # No job runs in between: only the clock moves.
        scheduled.published_at = timezone.now() - timedelta(seconds=1)
        Article.objects.filter(pk=scheduled.pk).update(published_at=scheduled.published_at)

        assert list(Article.objects.published()) == [scheduled]

    def test_publishing_without_a_date_stamps_the_current_time(self, make_article):
        article = make_article(status=Article.Status.DRAFT)
        assert article.published_at is None
        article.status = Article.Status.PUBLISHED
        article.save()
        assert article.published_at is not None
        assert article.is_published

    def test_publish_brings_a_scheduled_date_forward_and_keeps_a_past_one(self, make_article):
        past = timezone.now() - timedelta(days=30)
        earlier = make_article(status=Article.Status.DRAFT, published_at=past)
        later = make_article(
            status=Article.Status.DRAFT, published_at=timezone.now() + timedelta(days=3)
        )
        earlier.publish()
        later.publish()
        assert earlier.published_at == past
        assert later.is_published

    def test_unpublish_hides_the_article(self, article):
        article.unpublish()
        assert not Article.objects.published().exists()


@pytest.mark.django_db
def test_body_is_rendered_and_sanitised_on_save(make_article):
    article = make_article(body="## Hello\n\n<script>alert(1)</script>**bold**")
    assert '<h2 id="hello">' in article.body_html
    assert "<script" not in article.body_html
    assert "<strong>bold</strong>" in article.body_html
    assert 'href="#hello"' in article.toc_html

    article.body = "## Changed"
    article.save()
    article.refresh_from_db()
    assert 'id="changed"' in article.body_html


def test_the_body_saved_is_the_body_rendered_even_if_it_changed_after_checking(article):
    article.body = "## Checked"
    article.full_clean()
    article.body = "## Changed after the check"
    article.save()
    article.refresh_from_db()
    assert "Changed after the check" in article.body_html
    assert "Checked<" not in article.body_html


@pytest.mark.django_db
class TestRecommendations:
    def test_published_recommendations_follow_the_editors_order(self, make_article):
        article, first, second, hidden = (make_article() for _ in range(4))
        hidden.unpublish()
        RecommendedArticle.objects.create(article=article, recommended=second, position=2)
        RecommendedArticle.objects.create(article=article, recommended=hidden, position=0)
        RecommendedArticle.objects.create(article=article, recommended=first, position=1)

        assert list(article.published_recommendations()) == [first, second]

    def test_an_article_cannot_recommend_itself(self, article):
        link = RecommendedArticle(article=article, recommended=article)
        with pytest.raises(ValidationError, match="cannot recommend itself"):
            link.full_clean()
        with pytest.raises(IntegrityError), transaction.atomic():
            link.save()

    def test_the_same_article_cannot_be_recommended_twice(self, make_article):
        article, other = make_article(), make_article()
        RecommendedArticle.objects.create(article=article, recommended=other)
        duplicate = RecommendedArticle(article=article, recommended=other, position=5)
        with pytest.raises(ValidationError, match="already recommended"):
            duplicate.full_clean()
        with pytest.raises(IntegrityError), transaction.atomic():
            duplicate.save()


@pytest.mark.django_db
def test_every_saved_change_is_kept_in_the_history(article):
    article.title = "Renamed"
    article.save()
    titles = [record.title for record in article.history.order_by("history_date")]
    assert titles == ["Published article", "Renamed"]
