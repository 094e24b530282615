"""Commenters who asked to hear back: confirmed addresses, signed links, rate limits.

Nothing is emailed to an address until its owner follows the signed link in
a confirmation email; that happens once per address. Asking for a
confirmation is limited per address (one per COMMENTS_CONFIRMATION_INTERVAL,
kept in the database) and per sender (COMMENTS_CONFIRMATIONS_PER_SENDER an
hour per IP address or IPv6 /64, counted in the cache), so the form cannot be
used to flood someone else's inbox. An address that unsubscribed gets no
further confirmation request from the form at all.

The database keeps a keyed hash of the address, never the address itself;
links carry the same hash, signed, so they name nobody either.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .blocks import sender_network
from .models import Subscription

logger = logging.getLogger("comments.subscriptions")

CONFIRM_SALT = "comments.subscriptions.confirm"
UNSUBSCRIBE_SALT = "comments.subscriptions.unsubscribe"
CONFIRM_LINK_AGE = timedelta(days=7)


def confirmation_interval():
    return getattr(settings, "COMMENTS_CONFIRMATION_INTERVAL", 24 * 3600)


def confirmations_per_sender():
    return getattr(settings, "COMMENTS_CONFIRMATIONS_PER_SENDER", 5)


def normalise_address(email):
    return (email or "").strip().lower()


def address_hash(email):
    """A keyed hash of the address: stable for one site, useless to anyone without its key."""
    return salted_hmac(
        "comments.subscriptions.address", normalise_address(email), algorithm="sha256"
    ).hexdigest()


def subscription_for(email):
    if not normalise_address(email):
        return None
    return Subscription.objects.filter(address_hash=address_hash(email)).first()


def may_email(email):
    """Whether the owner of `email` confirmed it and has not unsubscribed since."""
    subscription = subscription_for(email)
    return subscription is not None and subscription.may_email


# Signed links: the hash, never the address


def confirm_token(email):
    return signing.TimestampSigner(salt=CONFIRM_SALT).sign(address_hash(email))


def unsubscribe_token(email):
    # No expiry: an unsubscribe link must keep working (RFC 8058).
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(address_hash(email))


def hash_from_confirm_token(token):
    """The address hash a confirmation link names; signing.BadSignature if forged or too old."""
    return signing.TimestampSigner(salt=CONFIRM_SALT).unsign(token, max_age=CONFIRM_LINK_AGE)


def hash_from_unsubscribe_token(token):
    return signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token)


# Asking, confirming, leaving


def _over_sender_limit(ip_address):
    """Count a confirmation request from this sender; True when over the hourly limit."""
    if not ip_address:
        return False
    key = (
        "comments:confirm:"
        + salted_hmac("comments.confirm.sender", str(sender_network(ip_address))).hexdigest()[:32]
    )
    try:
        cache.add(key, 0, timeout=3600)
        try:
            count = cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=3600)
            count = 1
    except Exception:
        # Without the cache the per-address limit (in the database) still holds.
        logger.warning(
            "Confirmation sender limit skipped: the cache is unavailable.", exc_info=True
        )
        return False
    return count > confirmations_per_sender()


def should_send_confirmation(email, ip_address, now=None):
    """Whether a comment from `email` that asks to hear back needs a confirmation email now.

    Records the request (per address, in the database), so call it once per
    comment, inside the transaction that saves it.
    """
    now = now or timezone.now()
    digest = address_hash(email)
    subscription = Subscription.objects.select_for_update().filter(address_hash=digest).first()
    if subscription is not None:
        if subscription.confirmed_at or subscription.unsubscribed_at:
            return False  # confirmed once is enough; unsubscribed means no more mail
        sent = subscription.confirmation_sent_at
        if sent and now - sent < timedelta(seconds=confirmation_interval()):
            return False
    if _over_sender_limit(ip_address):
        logger.info(
            "Confirmation email not sent: too many requests from one sender.",
            extra={"event": "confirmation_limited"},
        )
        return False
    if subscription is None:
        try:
            with transaction.atomic():
                Subscription.objects.create(address_hash=digest, confirmation_sent_at=now)
        except IntegrityError:  # another request for the same address won the race
            return False
    else:
        subscription.confirmation_sent_at = now
        subscription.save(update_fields=["confirmation_sent_at"])
    return True


def confirm(digest, now=None):
    """Confirm the address with this hash; True if it is (now or already) confirmed."""
    now = now or timezone.now()
    subscription, _ = Subscription.objects.get_or_create(address_hash=digest)
    if subscription.confirmed_at is None or subscription.unsubscribed_at is not None:
        subscription.confirmed_at = now
        subscription.unsubscribed_at = None
        subscription.save(update_fields=["confirmed_at", "unsubscribed_at"])
    return True


def unsubscribe(digest, now=None):
    """Stop every email to the address with this hash (and any confirmation request)."""
    now = now or timezone.now()
    subscription, _ = Subscription.objects.get_or_create(address_hash=digest)
    if subscription.unsubscribed_at is None:
        subscription.unsubscribed_at = now
        subscription.save(update_fields=["unsubscribed_at"])


def forget(email):
    """Remove what is kept about `email`'s subscription (erase_commenter); returns how many rows."""
    if not normalise_address(email):
        return 0
    return Subscription.objects.filter(address_hash=address_hash(email)).delete()[0]


def export(email):
    """The subscription of `email` as JSON-ready data (export_commenter), or None."""
    subscription = subscription_for(email)
    if subscription is None:
        return None

    def iso(value):
        return value.isoformat() if value else None

    return {
        "confirmation_sent_at": iso(subscription.confirmation_sent_at),
        "confirmed_at": iso(subscription.confirmed_at),
        "unsubscribed_at": iso(subscription.unsubscribed_at),
    }
