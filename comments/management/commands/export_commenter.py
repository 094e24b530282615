import json

from django.core.management.base import BaseCommand

from comments.privacy import export_commenter


class Command(BaseCommand):
    help = "Print every comment left with EMAIL (any capitalisation) as JSON."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        comments = export_commenter(email)
        self.stdout.write(json.dumps(comments, indent=2, ensure_ascii=False))
        # The summary goes to stderr so that stdout stays valid JSON for a pipe.
        self.stderr.write(f"Exported {len(comments)} comment(s) left with {email}.")
