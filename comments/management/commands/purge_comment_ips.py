from django.core.management.base import BaseCommand, CommandError

from comments.privacy import purge_ips


class Command(BaseCommand):
    help = "Clear the IP address and user agent of comments older than --days days."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, required=True)

    def handle(self, *args, days, **options):
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        count = purge_ips(days)
        self.stdout.write(
            f"Cleared the IP address and user agent of {count} comment(s) older than {days} days."
        )
