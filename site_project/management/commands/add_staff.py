"""Create an editor, a moderator or a medical reviewer: a staff account in that role's group.

A medical reviewer is also a person readers see ("Medically reviewed by Dr
Ada Smith, MD"): `--name` (and `--credentials`) create that person, linked
to the account, which is what lets them record their own reviews. An editor
given `--name` gets a person too, to sign their articles.
"""

import getpass
import sys

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from articles.people import Person
from articles.roles import EDITORS, MEDICAL_REVIEWERS
from comments.notifications import MODERATORS_GROUP

# Role on the command line -> the group a migration creates with its permissions.
ROLES = {"editor": EDITORS, "moderator": MODERATORS_GROUP, "reviewer": MEDICAL_REVIEWERS}
PASSWORD_TRIES = 3


class Command(BaseCommand):
    help = (
        "Create a staff user who logs into /admin/ as an editor (articles), a moderator "
        "(the comment queue) or a medical reviewer (records reviews; needs --name). Asks for the "
        "password twice, unless --no-password is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=sorted(ROLES), help="what they do")
        parser.add_argument(
            "--email", default="", help="their address (moderators and reviewers are emailed)"
        )
        parser.add_argument(
            "--name",
            default="",
            help='the name readers see, e.g. "Dr Ada Smith": creates their public person '
            "(required for a reviewer)",
        )
        parser.add_argument(
            "--credentials", default="", help='shown after the name, e.g. "MD, FAAD"'
        )
        parser.add_argument(
            "--no-password",
            action="store_true",
            help="create the account without a password, for scripts; set one later with "
            "`manage.py changepassword USERNAME`",
        )

    def handle(self, *args, username, role, email, no_password, name, credentials, **options):
        User = get_user_model()
        name = name.strip()
        if role == "reviewer" and not name:
            raise CommandError(
                "A medical reviewer is named on the articles they review: give --name "
                '"Dr Ada Smith" (and --credentials "MD, FAAD").'
            )
        if User.objects.filter(username=username).exists():
            raise CommandError(
                f"A user named {username!r} exists already. To change their role, edit "
                "their groups in the admin (Users)."
            )
        group = Group.objects.filter(name=ROLES[role]).first()
        if group is None:
            raise CommandError(f"There is no {ROLES[role]} group: run `manage.py migrate` first.")
        user = User(username=username, email=email, is_staff=True)
        person = Person(name=name, credentials=credentials.strip()) if name else None
        try:
            user.full_clean(exclude=["password"])
            if person is not None:
                person.full_clean(exclude=["slug", "user"])
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        if no_password:
            user.set_unusable_password()
        else:
            user.set_password(self.ask_password(user))
        with transaction.atomic():
            user.save()
            user.groups.add(group)
            if person is not None:
                person.user = user
                person.save()
        self.stdout.write(
            self.style.SUCCESS(f"Created {role} {username!r}: staff, in the {group.name} group.")
        )
        if person is not None:
            self.stdout.write(
                f"Their public page: {person.get_absolute_url()} (add a bio, photo and "
                "registration in the admin, People)."
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
