from django.core.management.base import BaseCommand

from comments.privacy import ANONYMOUS, erase_commenter


class Command(BaseCommand):
    help = (
        f"Erase the personal data on every comment left with EMAIL: the name becomes "
        f"“{ANONYMOUS}”; email, website, IP address and user agent are cleared."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument(
            "--remove-bodies",
            action="store_true",
            help="Also replace the text of the comments (kept by default).",
        )

    def handle(self, *args, email, remove_bodies, **options):
        count = erase_commenter(email, remove_bodies=remove_bodies)
        bodies = "text removed" if remove_bodies else "text kept"
        self.stdout.write(
            f"Erased the personal data of {count} comment(s) left with {email} ({bodies})."
        )
