"""The rules that decide what happens to a new comment and whether an article takes any.

One function, `assess`, reads every threshold from the settings and returns a
`Verdict`: the status the comment gets and, in a moderator's words, why. It
is the only place these rules live; the form does the spam-bot checks
(the honeypot) that need the submitted form itself.
"""

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone
from django.utils.crypto import salted_hmac

from . import conf
from .blocks import matching_block, sender_network
from .models import Comment, DisallowedWord, normalise_word
from .text import count_links

logger = logging.getLogger("comments.policy")

FLOOD = "flood"
DUPLICATE = "duplicate"

HELD_BY_DEFAULT = "Held for moderation (all comments are)."


@dataclass(frozen=True)
class Verdict:
    status: str | None  # a Comment.Status; None when the comment is refused
    reason: str
    refusal: str = ""  # FLOOD or DUPLICATE when refused

    @property
    def refused(self):
        return self.status is None


def assess(comment, own_comment_ids=()):
    """Decide the fate of an unsaved comment (article, email, body, ip_address set).

    `own_comment_ids` are the comments this visitor's session posted: only
    they are told that a comment is a duplicate. Anyone else gets the answer
    of an accepted comment and the copy goes to spam, so that typing someone's
    email and an approved comment's text reveals nothing about who wrote it.

    Counts the attempt against the flood limits, so call it once per submission.
    """
    if _flooding(comment):
        return Verdict(
            None,
            "You have sent several comments in the last minute. "
            "Please wait a minute, then send your comment again.",
            FLOOD,
        )
    block = matching_block(comment)
    if block is not None:
        return Verdict(
            Comment.Status.SPAM,
            f"Blocked sender ({block.get_kind_display().lower()} {block.value}).",
        )
    originals = _duplicates_of(comment)
    if originals:
        if set(originals) & set(own_comment_ids):
            return Verdict(None, "You have already posted this comment on this article.", DUPLICATE)
        return Verdict(
            Comment.Status.SPAM,
            f"Same email and text as comment #{originals[0]}, sent from another browser.",
        )

    reasons = []
    word = _disallowed_word(comment)
    if word:
        reasons.append(f"Contains the disallowed word “{word}”.")
    links, max_links = count_links(comment.body), conf.max_links()
    if links > max_links:
        reasons.append(f"Contains {links} links (more than {max_links}).")

    if word:
        return Verdict(Comment.Status.SPAM, " ".join(reasons))
    if reasons:
        return Verdict(Comment.Status.PENDING, " ".join(reasons))
    if conf.auto_approve_returning() and _is_returning(comment):
        return Verdict(
            Comment.Status.APPROVED,
            "Approved automatically: the commenter has an approved comment.",
        )
    return Verdict(Comment.Status.PENDING, HELD_BY_DEFAULT)


def comments_open(article, now=None):
    """Whether readers may comment on `article` now."""
    if not article.allow_comments or not article.is_published:
        return False
    days = conf.close_after_days()
    if days is None:
        return True
    return article.published_at + timedelta(days=days) > (now or timezone.now())


def _flood_key(kind, value):
    # Hashed so that the cache, which may be a shared Redis, holds no addresses.
    return "comments:flood:" + salted_hmac("comments.flood", f"{kind}:{value}").hexdigest()[:32]


def _flooding(comment):
    """Count this attempt per IP and per email; True when either is over the limit.

    add() + incr() are atomic in Redis, so several processes share one count.
    If the cache is down we let the comment through (it is held for moderation
    anyway) rather than refuse every reader.
    """
    keys = [_flood_key("email", comment.email.lower())]
    if comment.ip_address:
        # An IPv6 sender has a whole /64 to pick addresses from: it counts as one.
        keys.append(_flood_key("ip", sender_network(comment.ip_address)))
    window, limit = conf.flood_window(), conf.flood_limit()
    over = False
    try:
        for key in keys:
            cache.add(key, 0, timeout=window)
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.set(key, 1, timeout=window)
                count = 1
            over = over or count > limit
    except Exception:
        logger.warning("Flood check skipped: the cache is unavailable.", exc_info=True)
        return False
    return over


def _duplicates_of(comment):
    """The ids of earlier comments with the same article, email and text (the first few)."""
    return list(
        Comment.objects.filter(
            article_id=comment.article_id, email__iexact=comment.email, body=comment.body
        )
        .order_by("id")
        .values_list("id", flat=True)[:20]
    )


def _is_returning(comment):
    # Matches on the email address, which anyone can type: hence off by default.
    return Comment.objects.approved().filter(email__iexact=comment.email).exists()


def _disallowed_word(comment):
    """The first disallowed word or phrase found in any field the reader filled, or None."""
    words = {normalise_word(w) for w in conf.disallowed_words() if w.strip()}
    words.update(DisallowedWord.objects.values_list("word", flat=True))
    if not words:
        return None
    pattern = re.compile(
        r"(?<!\w)("
        + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        + r")(?!\w)",
        re.IGNORECASE,
    )
    text = " ".join(
        " ".join(str(value).split())
        for value in (comment.name, comment.email, comment.website, comment.body)
    )
    match = pattern.search(text)
    return match.group(1).lower() if match else None
