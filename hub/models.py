"""Accounts and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from hub.names import validate_username


class User(AbstractUser):
    """A hub account; ``username`` is the owner part of every ``owner/name`` id."""

    # Tighter than Django's default so a username is always a valid URL segment
    # and Hugging Face namespace.
    username = models.CharField(max_length=96, unique=True, validators=[validate_username])
    bio = models.CharField(max_length=280, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(models.functions.Lower("username"), name="user_username_ci_unique"),
        ]


class ApiToken(models.Model):
    """A personal access token. Only a hash of the secret is stored."""

    class Scope(models.TextChoices):
        READ = "read", "read"
        WRITE = "write", "write"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=64)
    prefix = models.CharField(max_length=16, help_text="the first characters of the token, shown to tell tokens apart")
    hashed_secret = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    created = models.DateTimeField(default=timezone.now)
    last_used = models.DateTimeField(null=True, blank=True)
    expires = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…, {self.scope})"

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked is None and (self.expires is None or self.expires > now)
