"""Create an editor or a moderator: a staff account in that role's group."""

import getpass
import sys

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

# Role on the command line -> the group a migration creates with its permissions.
ROLES = {"editor": "Editors", "moderator": "Moderators"}
PASSWORD_TRIES = 3


class Command(BaseCommand):
    help = (
        "Create a staff user who logs into /admin/ as an editor (articles) or a moderator "
        "(the comment queue). Asks for the password twice, unless --no-password is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=sorted(ROLES), help="what they do")
        parser.add_argument("--email", default="", help="their address (moderators are emailed)")
        parser.add_argument(
            "--no-password",
            action="store_true",
            help="create the account without a password, for scripts; set one later with "
            "`manage.py changepassword USERNAME`",
        )

    def handle(self, *args, username, role, email, no_password, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            raise CommandError(
                f"A user named {username!r} exists already. To change their role, edit "
                "their groups in the admin (Users)."
            )
        group = Group.objects.filter(name=ROLES[role]).first()
        if group is None:
            raise CommandError(f"There is no {ROLES[role]} group: run `manage.py migrate` first.")
        user = User(username=username, email=email, is_staff=True)
        try:
            user.full_clean(exclude=["password"])
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        if no_password:
            user.set_unusable_password()
        else:
            user.set_password(self.ask_password(user))
        with transaction.atomic():
            user.save()
            user.groups.add(group)
        self.stdout.write(
            self.style.SUCCESS(f"Created {role} {username!r}: staff, in the {group.name} group.")
        )
        if no_password:
            self.stdout.write(f"Set a password with: python manage.py changepassword {username}")

    def ask_password(self, user):
        """A password typed twice that passes AUTH_PASSWORD_VALIDATORS."""
        if not sys.stdin.isatty():
            raise CommandError(
                "No terminal to ask for a password on: use --no-password, then "
                f"`manage.py changepassword {user.username}`."
            )
        for _ in range(PASSWORD_TRIES):
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                self.stderr.write("The two passwords differ. Try again.")
                continue
            try:
                password_validation.validate_password(password, user)
            except ValidationError as error:
                self.stderr.write(" ".join(error.messages))
                continue
            return password
        raise CommandError(
            f"No acceptable password in {PASSWORD_TRIES} tries; nothing was created."
        )
