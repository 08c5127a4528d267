"""``manage.py create_token USERNAME [--scope read|write] [--create-user]``: prints the token only."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from hub.models import ApiToken, User
from hub.names import validate_username
from hub.tokens import token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print it (and nothing else) on stdout."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--scope", choices=ApiToken.Scope.values, default=ApiToken.Scope.READ)
        parser.add_argument("--name", default="cli")
        parser.add_argument("--expires-days", type=int, default=None)
        parser.add_argument("--create-user", action="store_true", help="create the user (no password) if missing")

    def handle(
        self, *args, username: str, scope: str, name: str, expires_days: int | None, create_user: bool, **options
    ):
        user = User.objects.filter(username__iexact=username).first()
        if user is None:
            if not create_user:
                raise CommandError(f"No user {username!r}; pass --create-user to create one.")
            try:
                validate_username(username)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            user = User.objects.create_user(username=username)
        expires = timezone.now() + timedelta(days=expires_days) if expires_days else None
        _, raw = token_create(user, name, scope, expires)
        self.stdout.write(raw)
