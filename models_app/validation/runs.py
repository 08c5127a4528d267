"""Writes around validation runs: create and queue, re-run, publish a verdict, sweep stale runs.

Messages are sent only after the transaction that created or re-queued the
run commits (a worker must find the row), and events follow the database the
same way: the verdict is saved first, then pushed to the page and the room.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from hub.api import ApiError
from models_app.models import ModelRepo, Ref, Revision
from models_app.repos import events
from models_app.validation.models import MAX_ATTEMPTS, ScratchBaseline, TaskScore, ValidationRun, ValidationSummary
from models_app.validation.report import as_score, headline_score

log = logging.getLogger(__name__)


# The task that drives a run (tasks.py). Sent by name: the state machine does not
# import its driver, which imports it (Celery resolves the name to the registered task).
VALIDATE_TASK = "models_app.validation.tasks.validate_revision"


def _send(run_id: int) -> None:
    from celery import current_app

    try:
        current_app.signature(VALIDATE_TASK, args=(run_id,)).delay()
    except Exception:  # noqa: BLE001 - a broker outage must not fail the upload; the sweeper re-sends
        log.exception("could not queue validation run %s; the sweeper will retry", run_id)


def enqueue_on_commit(run: ValidationRun) -> None:
    run_id = run.pk
    transaction.on_commit(lambda: _send(run_id))


def run_create(revision: Revision, *, requested_by=None) -> ValidationRun:
    """A new queued run for ``revision``; its message goes out when the transaction commits."""
    with transaction.atomic():
        run = ValidationRun.objects.create(revision=revision, requested_by=requested_by, enqueued=timezone.now())
        enqueue_on_commit(run)
        transaction.on_commit(lambda: publish_progress(run))
    return run


def main_revision(repo: ModelRepo) -> Revision | None:
    ref = Ref.objects.filter(repo=repo, name="main", kind="branch").select_related("revision").first()
    return ref.revision if ref else None


def run_rerun(repo: ModelRepo, user) -> ValidationRun:
    """Owner or staff: validate ``main`` again. 409 while a run of it is still queued or running."""
    from models_app.repos.rules import can_write

    if not can_write(user, repo):
        raise ApiError("Only the model's owner or staff can re-run its validation.", status_code=403)
    revision = main_revision(repo)
    if revision is None:
        raise ApiError(f"{repo.repo_id} has no revision to validate yet.", status_code=404)
    with transaction.atomic():
        # Locks the revision row so two clicks cannot both pass the check below.
        Revision.objects.select_for_update().filter(pk=revision.pk).first()
        active = ValidationRun.objects.filter(revision=revision, status__in=("queued", "running")).first()
        if active is not None:
            raise ApiError(
                f"A validation of this revision is already {active.status}.",
                status_code=409,
                detail={"run": active.pk},
            )
        return run_create(revision, requested_by=user)


def on_revision_created(sender, revision: Revision, created_by=None, **kwargs) -> None:
    """Receiver of ``events.revision_created``: every new head of a model's ``main`` or of a pull
    request (``refs/pr/N``) gets a run, on the same runner and suite.

    Datasets are data, not something to fine-tune: they are never validated.
    """
    heads = Ref.objects.filter(repo_id=revision.repo_id, revision=revision).filter(
        Q(kind=Ref.Kind.BRANCH, name="main") | Q(kind=Ref.Kind.PR)
    )
    if not heads.filter(repo__repo_type=ModelRepo.RepoType.MODEL).exists():
        return
    if ValidationRun.objects.filter(revision=revision).exists():
        return  # the same event twice (a retried commit hook) queues one run
    run_create(revision, requested_by=created_by)
    if heads.filter(kind=Ref.Kind.PR).exists():
        runs_supersede(revision)


def runs_supersede(head: Revision) -> list[ValidationRun]:
    """A new commit to a pull request: cancel the queued or running runs of the head it replaced.

    The replaced head is the new revision's parent (a commit to ``refs/pr/N`` builds on its tip).
    A revision some ref still names (``main``, another PR, a tag) keeps its run: someone reads it.
    A cancelled run is done for good: a worker that takes its message finds nothing to claim, and
    one already running it loses it at its next heartbeat, so its verdict is never written.
    """
    previous = head.parent
    if previous is None or Ref.objects.filter(revision=previous).exists():
        return []
    cancelled = []
    for run in ValidationRun.objects.filter(revision=previous, status__in=ValidationRun.ACTIVE):
        with transaction.atomic():
            if run.cancel(f"Superseded by {head.sha[:8]}, a newer commit to the pull request.", reason="superseded"):
                transaction.on_commit(lambda run=run: announce_finished(run))
                cancelled.append(run)
    return cancelled


# -- verdicts -------------------------------------------------------------------


def run_finish(run: ValidationRun, result) -> bool:
    """Store a ``ValidationResult`` for this attempt, update the repo's summary, then announce it."""
    data = result.to_dict() if hasattr(result, "to_dict") else dict(result)
    suite = data.get("suite") or {}
    with transaction.atomic():
        saved = run.finish(
            status=data["verdict"],
            reason=data.get("reason") or "",
            message=data.get("message") or "",
            suite=(suite.get("name") or "")[:64],
            suite_spec=suite,
            metrics=data.get("metrics") or {},
            findings=data.get("findings") or [],
            log=data.get("log_tail") or "",
            stage=ValidationRun.Stage.PUBLISH,
        )
        if saved:
            scratch_store(run)
            summary_update(run)
            transaction.on_commit(lambda: announce_finished(run))
    return saved


class ScratchCache:
    """The cached scratch baselines, looked up by key as the runner asks (one indexed query a task).

    The runner only calls ``get``; a lookup, not a load of every row, so the cost
    of a run does not grow with the number of architectures the hub has seen.
    """

    def get(self, key: str, default=None):
        row = ScratchBaseline.objects.filter(key=key).values_list("result", flat=True).first()
        return default if row is None else row


def scratch_store(run: ValidationRun) -> None:
    """Keep the scratch baselines this run measured, for the next revision of the same architecture."""
    for task in (run.metrics or {}).get("tasks") or []:
        key = task.get("scratch_key")
        if not key or task.get("scratch_cached") or "scratch" not in task:
            continue
        result = {k: task[k] for k in ("scratch", "scratch_loss_curve", "scratch_seconds") if k in task}
        ScratchBaseline.objects.get_or_create(key=key, defaults={"task": task["name"], "result": result, "run": run})


def run_fail(run: ValidationRun, reason: str, message: str, *, log_tail: str = "", status: str = "error") -> bool:
    with transaction.atomic():
        saved = run.fail(reason, message, log=log_tail, status=status)
        if saved:
            summary_update(run)
            transaction.on_commit(lambda: announce_finished(run))
    return saved


def summary_update(run: ValidationRun) -> None:
    """Point the repo's summary at ``run`` if it validated what ``main`` is now."""
    repo_id = run.revision.repo_id
    if not Ref.objects.filter(repo_id=repo_id, name="main", kind="branch", revision_id=run.revision_id).exists():
        return
    passed = run.status == "passed"
    summary = (run.metrics or {}).get("suite") or {}
    ValidationSummary.objects.update_or_create(
        repo_id=repo_id,
        defaults={
            "run": run,
            "verdict": run.status,
            "reason": run.reason,
            "suite": run.suite,
            "score": headline_score(run.metrics) if passed else None,
            "gain": summary.get("gain") if passed else None,
            "finished": run.finished or timezone.now(),
        },
    )
    # The per-task leaderboards show what main scores now: a failed main leaves them.
    TaskScore.objects.filter(repo_id=repo_id).delete()
    if passed:
        TaskScore.objects.bulk_create(
            TaskScore(
                repo_id=repo_id,
                run=run,
                task=task["name"][:64],
                score=as_score(task["metric"], tuned),
                finetuned=tuned,
                probe=(task.get("probe") or {}).get(task["metric"]),
                scratch=(task.get("scratch") or {}).get(task["metric"]),
                gain=task.get("gain"),
                estimates=task.get("estimates") or {},
                finished=run.finished or timezone.now(),
            )
            for task in (run.metrics or {}).get("tasks") or []
            if isinstance(tuned := (task.get("finetuned") or {}).get(task.get("metric")), int | float)
        )


# -- live events ----------------------------------------------------------------


def progress_payload(run: ValidationRun) -> dict:
    return {
        "run": run.pk,
        "revision": run.revision.sha,
        "status": run.status,
        "stage": run.stage,
        "progress": run.progress,
        "attempt": run.attempts,
        "queue_position": run.queue_position(),
    }


def publish_progress(run: ValidationRun) -> None:
    events.publish_live(run.revision.repo_id, "validation.progress", progress_payload(run))


def announce_finished(run: ValidationRun) -> None:
    """After the verdict commits: push it to the page and tell the room (discussions listens)."""
    payload = progress_payload(run) | {
        "verdict": run.status,
        "reason": run.reason,
        "message": run.message,
        "suite": run.suite,
        "score": headline_score(run.metrics) if run.status == "passed" else None,
        "gain": ((run.metrics or {}).get("suite") or {}).get("gain") if run.status == "passed" else None,
    }
    events.publish_live(run.revision.repo_id, "validation.finished", payload)
    for receiver, result in events.validation_finished.send_robust(sender=ValidationRun, run=run):
        if isinstance(result, Exception):
            log.error("validation_finished receiver %r failed", receiver, exc_info=result)


# -- the sweeper -------------------------------------------------------------------


def sweep_stale_runs(now=None) -> dict:
    """Re-queue runs whose worker stopped beating; end them as ``error`` after the last attempt.

    Each change is a conditional UPDATE on the attempt that went stale, so a
    worker that comes back, or two sweepers at once, change nothing twice.
    """
    from django.conf import settings

    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.VALIDATION_STALE_AFTER)
    counts = {"requeued": 0, "failed": 0, "resent": 0}
    stale = ValidationRun.objects.filter(status=ValidationRun.Status.RUNNING, heartbeat__lt=stale_before)
    for run in stale.select_related("revision"):
        if run.attempts >= MAX_ATTEMPTS:
            message = (
                f"The worker stopped (killed or lost) on all {MAX_ATTEMPTS} attempts; the last one was "
                f"{run.worker or 'unknown'} at stage '{run.stage or 'start'}'."
            )
            with transaction.atomic():
                if ValidationRun.give_up_stale(run.pk, stale_before, run.attempts, message):
                    run.refresh_from_db()
                    summary_update(run)
                    transaction.on_commit(lambda run=run: announce_finished(run))
                    counts["failed"] += 1
        else:
            with transaction.atomic():
                if ValidationRun.requeue_stale(run.pk, stale_before, run.attempts):
                    enqueue_on_commit(run)
                    counts["requeued"] += 1
    # A message lost before any worker saw it (broker down at upload time) is sent again.
    resend_before = now - timedelta(seconds=settings.VALIDATION_REQUEUE_AFTER)
    for run in ValidationRun.objects.filter(status=ValidationRun.Status.QUEUED, enqueued__lt=resend_before):
        with transaction.atomic():
            if ValidationRun.objects.filter(pk=run.pk, status="queued", enqueued=run.enqueued).update(enqueued=now):
                enqueue_on_commit(run)
                counts["resent"] += 1
    if any(counts.values()):
        log.warning("validation sweep: %s", counts)
    return counts
