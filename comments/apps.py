from django.apps import AppConfig
from django.db.models.signals import post_save


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = "Comments"

    def ready(self):
        from articles import page_cache

        from . import stats
        from .forms import current_timestamp
        from .models import Comment
        from .templatetags.comments_tags import comment_thread_fragment

        post_save.connect(stats.comment_saved, sender=Comment, dispatch_uid="comment-stats-save")
        # The cached article page: the thread is re-rendered alone after
        # moderation, and each visitor gets a fresh signed timestamp.
        page_cache.fragment("comments", comment_thread_fragment)
        page_cache.per_request_field("timestamp", lambda request, article_id: current_timestamp(article_id))
