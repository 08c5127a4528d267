"""Validation runs: one per revision, driven by the Celery task through the methods here.

A run is a small state machine (``queued -> running -> passed | failed | error``).
Every transition is one conditional UPDATE, so two workers, a redelivered
message and the sweeper can race without a run being executed or counted
twice: a worker owns a run for one *attempt* (``attempts`` after its claim), and
every later write of that worker is conditioned on still owning it.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from models_app.models import ModelRepo, Revision

MAX_ATTEMPTS = 3


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
        SCRATCH = "scratch"
        PUBLISH = "publish"

    DONE = (Status.PASSED, Status.FAILED, Status.ERROR)
    ACTIVE = (Status.QUEUED, Status.RUNNING)

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="validation_runs")
    suite = models.CharField(max_length=64, blank=True, help_text="reference suite name, once chosen")
    # The suite as run: {name, title, kind, metric, tasks: [{name, dataset, dataset_sha256, seed, budget}]},
    # so anyone can reproduce it.
    suite_spec = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True)
    stage = models.CharField(max_length=8, choices=Stage.choices, blank=True)
    # {"step", "total", "loss", "task", "task_index", "tasks"}: where the suite is
    progress = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    findings = models.JSONField(default=list, blank=True)
    reason = models.CharField(max_length=32, blank=True, help_text="typed reason for failed/error verdicts")
    message = models.TextField(blank=True)
    log = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=255, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now)
    # When a message for this run was last sent; the sweeper re-sends one that sat too long.
    enqueued = models.DateTimeField(null=True, blank=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat"])]

    def __str__(self) -> str:
        return f"validation run {self.pk} ({self.status})"

    # -- reads ------------------------------------------------------------------
    @property
    def is_done(self) -> bool:
        return self.status in self.DONE

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    def queue_position(self) -> int | None:
        """1 for the next run a worker takes; None unless queued. The gpu queue is FIFO by creation."""
        if self.status != self.Status.QUEUED:
            return None
        ahead = ValidationRun.objects.filter(status=self.Status.QUEUED).filter(
            Q(created__lt=self.created) | Q(created=self.created, pk__lt=self.pk)
        )
        return ahead.count() + 1

    def _owned(self):
        """This run, still held by the attempt this object claimed."""
        return ValidationRun.objects.filter(pk=self.pk, status=self.Status.RUNNING, attempts=self.attempts)

    # -- transitions --------------------------------------------------------------
    @classmethod
    def claim(cls, run_id: int, worker: str) -> ValidationRun | None:
        """Take a queued run (or a running one whose worker stopped beating) for one attempt.

        None when another worker holds it, it is done, or it used its attempts:
        a second delivery of the same message then stops here.
        """
        now = timezone.now()
        stale = now - timedelta(seconds=settings.VALIDATION_STALE_AFTER)
        claimable = Q(status=cls.Status.QUEUED) | Q(status=cls.Status.RUNNING, heartbeat__lt=stale)
        updated = cls.objects.filter(claimable, pk=run_id, attempts__lt=MAX_ATTEMPTS).update(
            status=cls.Status.RUNNING,
            attempts=F("attempts") + 1,
            worker=worker[:255],
            heartbeat=now,
            started=now,
            finished=None,
            stage=cls.Stage.SCAN,
            progress={},
        )
        if not updated:
            return None
        return cls.objects.select_related("revision__repo__owner").get(pk=run_id)

    def beat(self, stage: str | None = None, progress: dict | None = None) -> bool:
        """Heartbeat, optionally with the stage and progress. False once the run is no longer ours."""
        fields: dict = {"heartbeat": timezone.now()}
        if stage is not None:
            fields["stage"] = self.stage = stage
        if progress is not None:
            fields["progress"] = self.progress = progress
        return bool(self._owned().update(**fields))

    def finish(self, *, status: str, reason: str = "", message: str = "", **fields) -> bool:
        """Store the verdict of this attempt. False (and nothing written) if the run was taken from us."""
        now = timezone.now()
        values = {"status": status, "reason": reason or "", "message": message, "finished": now, "heartbeat": now}
        values.update(fields)
        if not self._owned().update(**values):
            return False
        for key, value in values.items():
            setattr(self, key, value)
        return True

    def fail(self, reason: str, message: str, *, log: str = "", status: str = Status.ERROR) -> bool:
        return self.finish(status=status, reason=reason, message=message, log=log or self.log)

    def cancel(self, message: str, *, reason: str = "cancelled") -> bool:
        """End a queued or running run as an error: operators ("cancelled"), or a newer commit to the
        same pull request ("superseded"). False if it had already finished.

        A worker still running it loses it: its next heartbeat or verdict matches no row (``_owned``).
        """
        now = timezone.now()
        values = {"status": self.Status.ERROR, "reason": reason, "message": message, "finished": now}
        if not ValidationRun.objects.filter(pk=self.pk, status__in=self.ACTIVE).update(**values):
            return False
        for key, value in values.items():
            setattr(self, key, value)
        return True

    @classmethod
    def requeue_stale(cls, run_id: int, stale_before, attempts: int) -> bool:
        """Sweeper: put a run whose worker died back in the queue (once, for this attempt)."""
        return bool(
            cls.objects.filter(
                pk=run_id, status=cls.Status.RUNNING, attempts=attempts, heartbeat__lt=stale_before
            ).update(status=cls.Status.QUEUED, worker="", stage="", progress={}, enqueued=timezone.now())
        )

    @classmethod
    def give_up_stale(cls, run_id: int, stale_before, attempts: int, message: str) -> bool:
        """Sweeper: a run that lost its worker on every attempt ends as an error, never stuck."""
        now = timezone.now()
        return bool(
            cls.objects.filter(
                pk=run_id, status=cls.Status.RUNNING, attempts=attempts, heartbeat__lt=stale_before
            ).update(status=cls.Status.ERROR, reason="internal_error", message=message, finished=now)
        )


class ValidationSummary(models.Model):
    """The latest verdict of a repo's ``main``, kept beside the repo for list facets and sorting."""

    repo = models.OneToOneField(ModelRepo, on_delete=models.CASCADE, primary_key=True, related_name="validation")
    run = models.ForeignKey(ValidationRun, on_delete=models.CASCADE, related_name="+")
    verdict = models.CharField(max_length=8, db_index=True)  # passed | failed | error
    reason = models.CharField(max_length=32, blank=True)
    suite = models.CharField(max_length=64, blank=True, db_index=True)
    score = models.FloatField(null=True, blank=True, db_index=True, help_text="suite mean, higher is better")
    gain = models.FloatField(null=True, blank=True, help_text="suite mean gain of the fine-tune over scratch")
    finished = models.DateTimeField(default=timezone.now, db_index=True)


class TaskScore(models.Model):
    """One task's result of a repo's passed ``main``: the rows of the per-task leaderboards."""

    repo = models.ForeignKey(ModelRepo, on_delete=models.CASCADE, related_name="task_scores")
    run = models.ForeignKey(ValidationRun, on_delete=models.CASCADE, related_name="+")
    task = models.CharField(max_length=64)
    # Higher is better: accuracy, or the inverse perplexity for the next-token task.
    score = models.FloatField()
    finetuned = models.FloatField(help_text="the task's metric after fine-tuning, as measured")
    probe = models.FloatField(null=True, blank=True)
    scratch = models.FloatField(null=True, blank=True)
    gain = models.FloatField(null=True, blank=True)
    # The transferability estimates from the probe's frozen training features: {knn, logme, linear_probe,
    # param_baseline, num_parameters}; the leaderboard compares their order with the fine-tuned one.
    estimates = models.JSONField(default=dict, blank=True)
    finished = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["repo", "task"], name="one_task_score_per_repo")]
        indexes = [models.Index(fields=["task", "-score"])]


class ScratchBaseline(models.Model):
    """A scratch baseline measured once and reused by every revision with the same ``runner.scratch_key``.

    The scratch network depends only on the architecture, the input pipeline and
    the task, not on the uploaded weights: the zoo's budgets of one network, or a
    new revision that changes only weights, need no second measurement.
    """

    key = models.CharField(max_length=64, unique=True)
    task = models.CharField(max_length=64)
    # {"scratch": {...scores}, "scratch_loss_curve": {...}, "scratch_seconds": float}
    result = models.JSONField()
    run = models.ForeignKey(ValidationRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(default=timezone.now)
