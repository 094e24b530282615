"""Dates for machines: <time datetime> attributes and structured data."""

from datetime import datetime

from django.utils import timezone


def iso_datetime(value):
    """`value` (a date or datetime) in ISO 8601, datetimes to the whole second.

    HTML allows at most three digits of a second's fraction and Python's
    isoformat(), like Django's `|date:"c"`, writes six, which the W3C checker
    refuses; nobody needs a comment's microsecond.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.isoformat(timespec="seconds")
    return value.isoformat()
