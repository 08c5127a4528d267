"""A search for the best starting model for a user's dataset, and one row per candidate model."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from models_app.models import ModelRepo, Revision


class Find(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    dataset = models.ForeignKey(ModelRepo, on_delete=models.CASCADE, related_name="finds")
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="finds")
    modality = models.CharField(max_length=8)  # text | image
    dataset_sha256 = models.CharField(max_length=64)
    examples = models.PositiveIntegerField(default=0)
    label_names = models.JSONField(default=list)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True)
    message = models.TextField(blank=True)
    # Confirmation: "" (not asked), queued, running, done, failed; k and Kendall's tau per estimator.
    confirm_status = models.CharField(max_length=8, blank=True)
    confirm_k = models.PositiveSmallIntegerField(default=0)
    confirm_tau = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"find {self.pk} on {self.dataset.repo_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE or self.confirm_status in ("queued", "running")


class FindRow(models.Model):
    """One candidate model: its estimates from frozen features, and its measured accuracy once confirmed."""

    find = models.ForeignKey(Find, on_delete=models.CASCADE, related_name="rows")
    model = models.ForeignKey(ModelRepo, on_delete=models.CASCADE, related_name="+")
    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=8, default="queued")  # queued | running | done | failed
    message = models.TextField(blank=True)
    knn = models.FloatField(null=True, blank=True)
    logme = models.FloatField(null=True, blank=True)
    linear_probe = models.FloatField(null=True, blank=True)
    num_parameters = models.BigIntegerField(null=True, blank=True)
    param_baseline = models.FloatField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True, help_text="feature extraction and scoring, wall time")
    features_cached = models.BooleanField(default=False)
    measured = models.FloatField(null=True, blank=True, help_text="accuracy after fine-tuning (confirmation)")
    confirm_status = models.CharField(max_length=8, blank=True)
    confirm_message = models.TextField(blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["find", "model"], name="one_row_per_model")]
