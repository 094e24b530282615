from django.core.management import call_command
from django.core.management.base import BaseCommand

from comments.notifications import requeue_stranded


class Command(BaseCommand):
    help = (
        "Run the background worker that sends the site's email: first re-queue any email "
        "a stopped worker left unsent, then run django-tasks-db's db_worker (its options "
        "--batch, --max-tasks, --interval and --reload are passed on)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true", help="Run what is due, then exit.")
        parser.add_argument("--max-tasks", type=int, default=None)
        parser.add_argument("--interval", type=float, default=1)
        parser.add_argument("--reload", action="store_true", help="Restart on code changes.")

    def handle(self, *args, batch, max_tasks, interval, reload, verbosity, **options):
        requeued = requeue_stranded()
        if requeued and verbosity:
            self.stdout.write(f"Re-queued {requeued} unsent email(s).")
        worker_options = {"batch": batch, "interval": interval, "reload": reload}
        if max_tasks:
            worker_options["max_tasks"] = max_tasks
        call_command("db_worker", verbosity=verbosity, **worker_options)
