from django.core.management.base import BaseCommand

from comments.notifications import requeue_stranded


class Command(BaseCommand):
    help = (
        "Queue again every email whose task was lost (a worker stopped mid-send, a queue "
        "write that failed). `manage.py worker` does this when it starts; cron it to be sure."
    )

    def handle(self, *args, **options):
        count = requeue_stranded()
        self.stdout.write(f"Re-queued {count} unsent email(s).")
