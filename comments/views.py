import logging
from functools import partial

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.utils.crypto import salted_hmac
from django.views.decorators.http import require_POST

from articles.views import ArticleDetailView
from site_project.cross_origin import same_origin_only
from site_project.errors import COMMENT_SAVED, COMMENT_UNKNOWN

from . import conf
from .client import client_ip, user_agent
from .forms import CommentForm
from .models import Comment
from .notifications import notify_moderators
from .policy import FLOOD, assess, comments_open
from .visitor import remember_comment

logger = logging.getLogger("comments.submissions")

# Form error codes that say why a submission was refused, most telling first.
SPAM_TRAP_CODES = ("honeypot",)


@same_origin_only
@require_POST
def post_comment(request, article_id):
    """Save a reader's comment and send them back to the article (POST/redirect/GET)."""
    page = _article_view(request)
    # The article page's own queryset, so a re-shown page costs what it always does.
    article = get_object_or_404(page.get_queryset().published(), pk=article_id)
    if not comments_open(article):
        log_refusal(request, article, "closed")
        return render(request, "comments/closed.html", {"article": article}, status=403)
    form = CommentForm(article, data=request.POST)
    if not form.is_valid():
        log_refusal(request, article, refusal_reason(form), fields=sorted(form.errors))
        return article_page_with_form(page, article, form)

    comment = form.save(commit=False)
    comment.ip_address, comment.user_agent = client_ip(request), user_agent(request)
    verdict = assess(comment)
    if verdict.refused:
        log_refusal(request, article, verdict.refusal)
    if verdict.refusal == FLOOD:
        response = render(
            request,
            "comments/flood.html",
            {"article": article, "message": verdict.reason},
            status=429,
        )
        response["Retry-After"] = str(conf.flood_window())
        return response
    if verdict.refused:
        form.add_error("body", verdict.reason)
        return article_page_with_form(page, article, form)

    comment.status, comment.hold_reason = verdict.status, verdict.reason
    with transaction.atomic():
        comment.save()
        if comment.status == Comment.Status.PENDING:
            # Only once the comment is safely stored: a mail failure cannot lose it.
            transaction.on_commit(partial(notify_moderators, comment))
        # What a 503 may tell the reader (site_project/errors.py): a failure
        # from here on may come after the commit, and the session is saved
        # after the view, so the database can fail a request whose comment is stored.
        request.comment_outcome = COMMENT_UNKNOWN
    request.comment_outcome = COMMENT_SAVED

    if comment.status == Comment.Status.APPROVED:
        messages.success(request, "Thank you, your comment is published.")
    else:
        remember_comment(request, comment)
        messages.success(request, "Your comment is awaiting moderation.")
    return redirect(article.get_absolute_url() + "#comments")


def refusal_reason(form):
    """One word for why an invalid form was refused: a spam-bot trap, or "invalid"."""
    codes = {error.code for errors in form.errors.as_data().values() for error in errors}
    return next((code for code in SPAM_TRAP_CODES if code in codes), "invalid")


def log_refusal(request, article, reason, **fields):
    """One structured line per refused submission: the reason and article, no email or address.

    The client is a keyed hash of its address: enough to see one source
    retrying, nothing that names a reader.
    """
    address = client_ip(request) or ""
    logger.info(
        "comment refused: %s",
        reason,
        extra={
            "event": "comment_refused",
            "reason": reason,
            "article_id": article.pk,
            "client": salted_hmac("comments.log.client", address).hexdigest()[:16],
            **fields,
        },
    )


def _article_view(request):
    view = ArticleDetailView()
    view.setup(request)
    return view


def article_page_with_form(view, article, form, status=400):
    """The article page again, with the reader's text and the errors beside the fields."""
    view.kwargs["slug"] = article.slug
    view.object = article
    context = view.get_context_data(object=article, comment_form=form)
    return TemplateResponse(view.request, view.get_template_names(), context, status=status)
