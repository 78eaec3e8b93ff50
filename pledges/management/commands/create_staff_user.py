"""``manage.py create_staff_user USERNAME --role 編集者|閲覧者 [--email E] [--no-input]``."""

from __future__ import annotations

import getpass
import os

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.urls import reverse

from pledges import roles

PASSWORD_ENV = "STAFF_USER_PASSWORD"
ROLE_ALIASES = {roles.EDITOR: roles.EDITOR, "editor": roles.EDITOR,
                roles.VIEWER: roles.VIEWER, "viewer": roles.VIEWER}


class Command(BaseCommand):
    help = (
        "Create a staff user who can log in to /admin/ with a role: 編集者 (editor: changes "
        "ratings and progress notes, sees everything else read-only) or 閲覧者 (viewer: "
        "read-only). "
        "The password is asked twice, or read from the STAFF_USER_PASSWORD environment variable "
        "with --no-input; it never goes on the command line. The role groups are (re)created "
        "first, so this also works on a database whose groups were removed. For a superuser use "
        "createsuperuser."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--role", required=True, choices=sorted(ROLE_ALIASES),
            help="編集者 (or editor) / 閲覧者 (or viewer)",
        )
        parser.add_argument("--email", default="", help="the user's e-mail address (optional)")
        parser.add_argument(
            "--no-input", action="store_false", dest="interactive",
            help=f"do not prompt; take the password from ${PASSWORD_ENV}",
        )

    def handle(
        self, *args, username: str, role: str, email: str, interactive: bool, **options
    ) -> None:
        User = get_user_model()
        username = username.strip()
        if not username:
            raise CommandError("USERNAME must not be empty.")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"user {username!r} already exists; nothing changed.")
        group_name = ROLE_ALIASES[role]
        user = User(username=username, email=email, is_staff=True)
        password = self.ask_password() if interactive else self.env_password()
        try:
            password_validation.validate_password(password, user)
        except ValidationError as error:
            raise CommandError("password refused: " + " ".join(error.messages)) from None
        user.set_password(password)
        with transaction.atomic():
            roles.sync_roles()
            user.save()
            user.groups.add(Group.objects.get(name=group_name))
        self.stdout.write(self.style.SUCCESS(
            f"created staff user {username!r} with role {group_name}; "
            f"log in at {reverse('admin:index')}"
        ))

    def env_password(self) -> str:
        password = os.environ.get(PASSWORD_ENV, "")
        if not password:
            raise CommandError(f"--no-input needs the password in ${PASSWORD_ENV}.")
        return password

    def ask_password(self) -> str:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("the two passwords differ; nothing changed.")
        return password
