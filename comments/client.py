"""Who sent a comment: the client address and user agent stored with it."""

import ipaddress

from site_project.client_ip import client_ip as _site_client_ip

USER_AGENT_LENGTH = 300


def client_ip(request):
    """The project's client address (see site_project.client_ip), if it is a valid IP.

    Anything else (a proxy writing "unknown", a port suffix) is stored as no
    address rather than failing the comment on PostgreSQL's inet column.
    """
    try:
        return str(ipaddress.ip_address((_site_client_ip(request) or "").strip()))
    except ValueError:
        return None


def user_agent(request):
    return request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH]
