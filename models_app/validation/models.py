"""Validation runs: one per revision, driven by the Celery task through the methods here."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from models_app.models import ModelRepo, Revision


class ValidationRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        PASSED = "passed"
        FAILED = "failed"
        ERROR = "error"

    class Stage(models.TextChoices):
        SCAN = "scan"
        LOAD = "load"
        BASELINE = "baseline"
        FINETUNE = "finetune"
        EVALUATE = "evaluate"
        PUBLISH = "publish"

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="validation_runs")
    task = models.CharField(max_length=64, blank=True, help_text="reference task name, once chosen")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True)
    stage = models.CharField(max_length=8, choices=Stage.choices, blank=True)
    # {"step": int, "total": int, "loss": float | None}
    progress = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    findings = models.JSONField(default=list, blank=True)
    reason = models.CharField(max_length=32, blank=True, help_text="typed reason for failed/error verdicts")
    message = models.TextField(blank=True)
    log = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat"])]


class ValidationSummary(models.Model):
    """The latest verdict of a repo's ``main``, kept beside the repo for list facets and sorting."""

    repo = models.OneToOneField(ModelRepo, on_delete=models.CASCADE, primary_key=True, related_name="validation")
    run = models.ForeignKey(ValidationRun, on_delete=models.CASCADE, related_name="+")
    verdict = models.CharField(max_length=8, db_index=True)  # passed | failed | error
    reason = models.CharField(max_length=32, blank=True)
    task = models.CharField(max_length=64, blank=True, db_index=True)
    score = models.FloatField(null=True, blank=True, db_index=True, help_text="fine-tuned headline metric")
    finished = models.DateTimeField(default=timezone.now, db_index=True)
