"""Blocked senders: how a block's value is written down, and which block a comment matches.

An IPv6 sender is one /64 (a household or a server gets at least that many
addresses), so a block or a flood count of an IPv6 address covers its /64;
an IPv4 sender is one address.
"""

import ipaddress

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q

IPV6_SENDER_PREFIX = 64


def sender_network(ip):
    """The network that counts as one sender: the IPv4 address itself, or the IPv6 /64."""
    address = ipaddress.ip_address(ip)
    prefix = IPV6_SENDER_PREFIX if address.version == 6 else 32
    return ipaddress.ip_network(f"{address}/{prefix}", strict=False)


def email_domain(email):
    return email.rpartition("@")[2].strip().lower().rstrip(".")


def normalise_block(kind, value):
    """The stored form of a block's value; ValueError with a moderator's message if it is none."""
    from .models import BlockedSender

    value = (value or "").strip()
    if kind == BlockedSender.Kind.EMAIL:
        try:
            validate_email(value)
        except ValidationError:
            raise ValueError("Enter a whole email address, like name@example.com.") from None
        return value.lower()
    if kind == BlockedSender.Kind.DOMAIN:
        domain = value.lstrip("@").lower().rstrip(".")
        if "@" in domain or "." not in domain or any(c.isspace() for c in domain):
            raise ValueError("Enter a domain name, like example.com.")
        return domain
    if kind == BlockedSender.Kind.IP:
        try:
            if "/" in value:
                return str(ipaddress.ip_network(value, strict=False))
            return str(sender_network(value))
        except ValueError:
            raise ValueError(
                "Enter an IP address or network, like 203.0.113.7 or 2001:db8::/64."
            ) from None
    raise ValueError("Unknown kind of block.")


def suggested_blocks(comment):
    """The blocks a moderator may add from a comment: (kind, value) pairs it would match."""
    from .models import BlockedSender

    blocks = []
    if comment.email:
        blocks.append((BlockedSender.Kind.EMAIL, comment.email.lower()))
        blocks.append((BlockedSender.Kind.DOMAIN, email_domain(comment.email)))
    if comment.ip_address:
        blocks.append((BlockedSender.Kind.IP, str(sender_network(comment.ip_address))))
    return blocks


def matching_block(comment):
    """The first block that `comment` (email, ip_address set) falls under, or None. One query."""
    from .models import BlockedSender

    Kind = BlockedSender.Kind
    email = (comment.email or "").strip().lower()
    domain = email_domain(email) if email else ""
    # example.com blocks mail.example.com too.
    parts = domain.split(".")
    domains = [".".join(parts[i:]) for i in range(len(parts) - 1)] if domain else []
    condition = Q(kind=Kind.EMAIL, value=email) | Q(kind=Kind.DOMAIN, value__in=domains)
    if comment.ip_address:
        # Few networks, tested here: containment is not portable SQL on SQLite.
        condition |= Q(kind=Kind.IP)
    address = ipaddress.ip_address(comment.ip_address) if comment.ip_address else None
    for block in BlockedSender.objects.filter(condition).order_by("kind", "id"):
        if block.kind != Kind.IP:
            return block
        try:
            if address in ipaddress.ip_network(block.value, strict=False):
                return block
        except (TypeError, ValueError):
            continue  # a network of the other IP version, or one edited into nonsense
    return None
