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
    # Bytes this account's repos may hold; None: the site's default (HUB_USER_QUOTA, HUB_ORG_QUOTA for an org).
    storage_quota = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(models.functions.Lower("username"), name="user_username_ci_unique"),
        ]

    @property
    def is_organization(self) -> bool:
        return Organization.objects.filter(account_id=self.pk).exists() if self.pk else False


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


class Organization(models.Model):
    """A namespace shared by a team. Its ``account`` is a User row that can never sign in.

    The org's name is its account's username, so org and user names share one
    unique, case-insensitive namespace and every ``owner/name`` keeps pointing
    at a User (docs/organizations.md says why).
    """

    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="organization"
    )
    fullname = models.CharField(max_length=128, blank=True)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.account.username


class Membership(models.Model):
    """A user's role in an organization, as the Hugging Face Hub names them."""

    class Role(models.TextChoices):
        READ = "read", "read"  # sees the org's private repos
        CONTRIBUTOR = "contributor", "contributor"  # also creates repos, writes to the ones they created
        WRITE = "write", "write"  # also writes to every repo of the org
        ADMIN = "admin", "admin"  # also manages members and the org's repos' settings

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=12, choices=Role.choices, default=Role.READ)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["org_id", "user__username"]
        constraints = [models.UniqueConstraint(fields=["org", "user"], name="membership_org_user_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.org} ({self.role})"


class AuditEntry(models.Model):
    """One action by the people who run the site (or an org admin): who, what, on what, when, why."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=48, db_index=True)  # e.g. "repo.hide", "user.disable", "org.member_add"
    target = models.CharField(max_length=255, db_index=True)  # e.g. "model acme/m", "user dave"
    reason = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target}"
