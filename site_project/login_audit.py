"""Logs every admin-login lockout that django-axes decides."""

import logging

from axes.signals import user_locked_out
from django.dispatch import receiver

log = logging.getLogger("site_project.security")


@receiver(user_locked_out, dispatch_uid="log-admin-lockout")
def log_lockout(sender, request, username, ip_address, **kwargs):
    log.warning(
        "admin login locked out",
        extra={"event": "login_lockout", "username": username, "ip_address": ip_address},
    )
