"""Background work of the comments app, run by the task worker (Django's Tasks API)."""

from django_tasks import task

from .notifications import deliver


@task()
def send_notification(notification_id):
    """Send the email of one Notification row; a no-op if it was already sent or is being sent."""
    return deliver(notification_id)
