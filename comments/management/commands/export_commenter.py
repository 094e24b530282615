import json

from django.core.management.base import BaseCommand

from comments import subscriptions
from comments.privacy import export_commenter


class Command(BaseCommand):
    help = (
        "Print, as JSON, every comment left with EMAIL (any capitalisation) and whether "
        "that address asked for, confirmed or stopped email about its comments."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        comments = export_commenter(email)
        exported = {
            "comments": comments,
            # What is kept about the address's email subscription (dates only), or null.
            "email_subscription": subscriptions.export(email),
        }
        self.stdout.write(json.dumps(exported, indent=2, ensure_ascii=False))
        # The summary goes to stderr so that stdout stays valid JSON for a pipe.
        self.stderr.write(f"Exported {len(comments)} comment(s) left with {email}.")
