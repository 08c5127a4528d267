"""Likes and download counts: what people do with a model, kept beside the repo."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from models_app.models import ModelRepo


class Like(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes")
    repo = models.ForeignKey(ModelRepo, on_delete=models.CASCADE, related_name="like_rows")
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "repo"], name="like_user_repo_unique")]


class DownloadDay(models.Model):
    """One counted download: a client fetched a repo's config or weights on a (UTC) day.

    The unique key is the counting rule (one per repo, per client, per day), so
    the hot path is a single conflict-ignoring INSERT; rows older than the
    trending window are pruned by ``prune_downloads`` (the all-time total lives
    on ``ModelRepo.downloads``).
    """

    repo = models.ForeignKey(ModelRepo, on_delete=models.CASCADE, related_name="download_days")
    day = models.DateField()
    client = models.CharField(max_length=32, help_text="hash of the user id, or of the address and user agent")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repo", "day", "client"], name="download_repo_day_client")]
        indexes = [models.Index(fields=["day"])]
