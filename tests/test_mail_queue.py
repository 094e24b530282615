"""The email queue itself: django-tasks' database backend, the worker, retries, nothing lost.

These tests use the production backend (django_tasks_db) on the test
database, with real commits (transactional_db), and run the worker in
batch mode as `manage.py worker --batch` would.
"""

import signal
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from comments.models import Comment, Notification
from comments.notifications import deliver, requeue_stranded

from .conftest import DATABASE_TASKS

pytestmark = pytest.mark.django_db(transaction=True)


class DownBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("the mail server is down")


@pytest.fixture(autouse=True)
def _database_queue(settings):
    settings.TASKS = DATABASE_TASKS
    settings.MODERATOR_EMAILS = ["mods@example.com"]
    settings.SITE_URL = "https://blog.example"


def run_worker():
    """`manage.py worker --batch`: re-queue what was lost, run every due task, exit."""
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("worker", "--batch", verbosity=0, stdout=StringIO())
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


def post_comment(client, article, comment_form_data, body="Is the dryness normal?"):
    response = client.post(
        reverse("comments:post", args=[article.pk]), comment_form_data(article, body=body)
    )
    assert response.status_code == 302
    return Comment.objects.get(body=body)


def test_a_comment_queues_its_email_for_the_worker(client, article, comment_form_data):
    comment = post_comment(client, article, comment_form_data)
    assert mail.outbox == []  # nothing is sent from the request
    [task] = DBTaskResult.objects.all()
    assert task.task_path == "comments.tasks.send_notification"
    notification = Notification.objects.get()
    assert task.args_kwargs == {"args": [notification.pk], "kwargs": {}}  # an id, no address
    run_worker()
    [message] = mail.outbox
    assert message.to == ["mods@example.com"] and str(comment.pk) in message.body
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_mail_down_the_email_is_retried_later_and_sent_once(
    client, article, comment_form_data, settings
):
    post_comment(client, article, comment_form_data)
    settings.EMAIL_BACKEND = f"{__name__}.DownBackend"
    run_worker()
    notification = Notification.objects.get()
    assert (notification.attempts, notification.sent_at, notification.outcome) == (1, None, "")
    assert notification.next_attempt_at > timezone.now() + timedelta(seconds=30)
    # The failed attempt is recorded; a new task waits for the retry time.
    assert DBTaskResult.objects.filter(status="FAILED").count() == 1
    waiting = DBTaskResult.objects.get(status="READY")
    assert waiting.run_after == notification.next_attempt_at

    run_worker()  # not due yet: nothing happens
    assert Notification.objects.get().attempts == 1

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    DBTaskResult.objects.filter(pk=waiting.pk).update(run_after=timezone.now())  # time passes
    run_worker()
    notification.refresh_from_db()
    assert notification.outcome == "sent" and notification.attempts == 2
    assert len(mail.outbox) == 1


def test_a_task_run_twice_sends_once(client, article, comment_form_data):
    post_comment(client, article, comment_form_data)
    pk = Notification.objects.get().pk
    assert deliver(pk) == "sent"
    assert deliver(pk) == "already handled"
    assert len(mail.outbox) == 1


def test_after_too_many_failures_the_email_is_given_up_and_logged(
    client, article, comment_form_data, settings, caplog
):
    settings.COMMENTS_MAIL_MAX_ATTEMPTS = 2
    settings.EMAIL_BACKEND = f"{__name__}.DownBackend"
    post_comment(client, article, comment_form_data)
    pk = Notification.objects.get().pk
    for _ in range(2):
        with pytest.raises(ConnectionRefusedError):
            deliver(pk)
    notification = Notification.objects.get()
    assert (notification.outcome, notification.attempts) == ("abandoned", 2)
    assert any(getattr(r, "event", "") == "notification_abandoned" for r in caplog.records)


def test_a_worker_stopped_mid_send_loses_nothing(client, article, comment_form_data):
    post_comment(client, article, comment_form_data)
    # What a killed worker leaves: its task claimed and "running" for ever, the email unsent.
    task = DBTaskResult.objects.get()
    DBTaskResult.objects.filter(pk=task.pk).update(status="RUNNING", started_at=timezone.now())
    past = timezone.now() - timedelta(minutes=30)
    Notification.objects.update(claimed_until=past, next_attempt_at=past, attempts=1)
    run_worker()  # the worker starts again: it re-queues the email and sends it
    assert len(mail.outbox) == 1
    assert Notification.objects.get().outcome == "sent"
    run_worker()
    assert len(mail.outbox) == 1


def test_an_email_waiting_for_its_task_is_not_queued_twice(client, article, comment_form_data):
    post_comment(client, article, comment_form_data)
    assert requeue_stranded() == 0  # its task is queued and due: not stranded


def test_requeue_mail_command(client, article, comment_form_data):
    post_comment(client, article, comment_form_data)
    DBTaskResult.objects.all().delete()  # the queue write was lost
    Notification.objects.update(next_attempt_at=timezone.now() - timedelta(hours=1))
    out = StringIO()
    call_command("requeue_mail", stdout=out)
    assert "Re-queued 1" in out.getvalue()
    run_worker()
    assert len(mail.outbox) == 1
