"""Which failed admin log-ins count against an attempt: django-axes' AXES_LOCKOUT_PARAMETERS.

Failures are counted for the pair (username, client address), so that an
outsider's guesses lock out only themselves, never a moderator at their
own address, and a good log-in clears its own pair only
(AXES_RESET_ON_SUCCESS), not the guesses at other accounts from that
address. axes compares every count with one limit (AXES_FAILURE_LIMIT), so
the looser per-address limit is applied here: once an address has failed
LOGIN_ADDRESS_FAILURE_LIMIT times, for any usernames, all its failures
count together and it is locked whatever username it tries.
"""

from axes.attempts import get_cool_off_threshold
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum

PAIR = [["username", "ip_address"]]
ADDRESS = ["ip_address"]


def lockout_parameters(request_or_attempt, credentials=None):
    """axes' parameters for this attempt: the pair, or the whole address once it is over its limit."""
    address = getattr(request_or_attempt, "axes_ip_address", None)
    if address is None:  # axes asking about a stored attempt, not a request
        return PAIR
    if address_failures(request_or_attempt, address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
        return ADDRESS
    return PAIR


def address_failures(request, address):
    """Failed log-ins from `address` within the cool-off time, for any usernames."""
    recent = AccessAttempt.objects.filter(
        ip_address=address, attempt_time__gte=get_cool_off_threshold(request)
    )
    return recent.aggregate(total=Sum("failures_since_start"))["total"] or 0
