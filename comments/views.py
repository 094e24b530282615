import logging

from django.contrib import messages
from django.core import signing
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.utils.crypto import salted_hmac
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from articles.views import ArticleDetailView
from site_project.cross_origin import same_origin_only
from site_project.errors import COMMENT_SAVED, COMMENT_UNKNOWN

from . import conf, subscriptions
from .client import client_ip, user_agent
from .forms import CommentForm
from .models import Comment
from .notifications import comment_posted
from .policy import FLOOD, assess, comments_open
from .visitor import keep_refused_form, own_comment_ids, remember_comment

logger = logging.getLogger("comments.submissions")

# Form error codes that say why a submission was refused, most telling first.
SPAM_TRAP_CODES = ("honeypot",)

ASKED_TO_HEAR_BACK = (
    "If this email address is not confirmed yet, we have sent it a link to confirm it; "
    "nothing else is sent until then."
)


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
        return refused(request, page, article, form)

    comment = form.save(commit=False)
    comment.ip_address, comment.user_agent = client_ip(request), user_agent(request)
    verdict = assess(comment, own_comment_ids(request))
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
        return refused(request, page, article, form, extra_errors={"body": [verdict.reason]})

    comment.status, comment.hold_reason = verdict.status, verdict.reason
    with transaction.atomic():
        comment.save()
        # Rows of the outbox, sent by the worker once this commits: a mail
        # server that is down costs a retry, never the comment.
        comment_posted(comment, comment.ip_address)
        # What a 503 may tell the reader (site_project/errors.py): a failure
        # from here on may come after the commit, and the session is saved
        # after the view, so the database can fail a request whose comment is stored.
        request.comment_outcome = COMMENT_UNKNOWN
    request.comment_outcome = COMMENT_SAVED

    # Spam (a blocked sender, a stranger's duplicate) gets the same answer as
    # any held comment: nothing here tells a sender how the rules saw them.
    if comment.status == Comment.Status.APPROVED:
        messages.success(request, "Thank you, your comment is published.")
    else:
        remember_comment(request, comment)
        messages.success(request, "Your comment is awaiting moderation.")
    if comment.notify:
        messages.info(request, ASKED_TO_HEAR_BACK)
    return redirect(article.get_absolute_url() + "#comments")


def refused(request, page, article, form, extra_errors=None):
    """Send the reader back to the form with what they typed and why it was refused.

    A browser's form navigation (Fetch Metadata `Sec-Fetch-Mode: navigate`)
    is redirected to the article's own URL at `#comment-form`, with the form
    kept in the reader's session for that one page view: the page is then
    live (a visitor with a session never gets a shared copy), reloading it
    posts nothing, and the address bar shows the article. Anything else (a
    script, a browser without Fetch Metadata) gets the same page at once, as
    a 400, and no session is made for it.
    """
    if request.headers.get("Sec-Fetch-Mode") == "navigate":
        keep_refused_form(request, article, form.data, extra_errors or {})
        response = redirect(article.get_absolute_url() + "#comment-form")
        response.status_code = 303
        return response
    return article_page_with_form(page, article, form)


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


ARTICLE_WITH_ERRORS = "comments/article_with_errors.html"


def article_page_with_form(view, article, form, status=400):
    """The article page again, with the reader's text and the errors beside the fields."""
    view.kwargs["slug"] = article.slug
    view.object = article
    context = view.get_context_data(object=article, comment_form=form)
    return TemplateResponse(view.request, ARTICLE_WITH_ERRORS, context, status=status)


# Hearing back: confirm an address, leave


def _private(response):
    """A page reached through a signed link: never stored anywhere, never referred onwards."""
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@same_origin_only
@require_http_methods(["GET", "HEAD", "POST"])
def confirm_address(request, token):
    """GET: a page with a button (mail scanners follow links); POST: confirm the address."""
    try:
        digest = subscriptions.hash_from_confirm_token(token)
    except signing.SignatureExpired:
        return _private(render(request, "comments/confirm.html", {"state": "expired"}, status=400))
    except signing.BadSignature:
        return _private(render(request, "comments/confirm.html", {"state": "invalid"}, status=400))
    if request.method == "POST":
        subscriptions.confirm(digest)
        return _private(render(request, "comments/confirm.html", {"state": "confirmed"}))
    return _private(render(request, "comments/confirm.html", {"state": "ask"}))


@never_cache
@csrf_exempt  # RFC 8058: the mail provider POSTs from elsewhere; the signed token is the proof
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    """GET: a page with a button; POST (the page's, or a mail client's one-click): unsubscribe."""
    try:
        digest = subscriptions.hash_from_unsubscribe_token(token)
    except signing.BadSignature:
        return _private(
            render(request, "comments/unsubscribe.html", {"state": "invalid"}, status=400)
        )
    if request.method == "POST":
        if request.POST.get("resubscribe") == "1":
            subscriptions.confirm(digest)
            state = "resubscribed"
        else:
            subscriptions.unsubscribe(digest)
            state = "unsubscribed"
        return _private(render(request, "comments/unsubscribe.html", {"state": state}))
    return _private(render(request, "comments/unsubscribe.html", {"state": "ask"}))
