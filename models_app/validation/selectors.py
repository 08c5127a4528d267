"""Reads: a repo's runs, a task's leaderboard, a run as the API shows it."""

from __future__ import annotations

from django.db.models import QuerySet

from models_app.models import ModelRepo
from models_app.repos.rules import visible_repos
from models_app.validation import report
from models_app.validation.models import ValidationRun, ValidationSummary


def runs_of(repo: ModelRepo) -> QuerySet[ValidationRun]:
    return ValidationRun.objects.filter(revision__repo=repo).select_related("revision").order_by("-created", "-id")


def leaderboard_rows(user, task: str, *, limit: int = 100) -> list[dict]:
    """The passed ``main`` of every model ``user`` may see, best headline metric first."""
    board = report.BOARDS[task]
    summaries = (
        ValidationSummary.objects.filter(task=task, verdict="passed", repo__in=visible_repos(user))
        .select_related("repo__owner", "run__revision")
        .order_by("-score", "finished")[:limit]
    )
    rows = []
    for rank, summary in enumerate(summaries, start=1):
        metrics = summary.run.metrics or {}
        tuned, base = metrics.get("finetuned") or {}, metrics.get("baseline") or {}
        rows.append(
            {
                "rank": rank,
                "model": summary.repo.repo_id,
                "revision": summary.run.revision.sha,
                "run": summary.run.pk,
                "metric": board.metric,
                "value": tuned.get(board.metric),
                "baseline": base.get(board.metric),
                "macro_f1": tuned.get("macro_f1"),
                "train_examples_per_s": metrics.get("train_examples_per_s"),
                "device": metrics.get("device", ""),
                "finished": summary.finished.isoformat(),
            }
        )
    return rows


def run_as_json(run: ValidationRun) -> dict:
    return {
        "id": run.pk,
        "revision": run.revision.sha,
        "status": run.status,
        "verdict": run.status if run.is_done else None,
        "reason": run.reason or None,
        "message": run.message,
        "stage": run.stage or None,
        "progress": run.progress,
        "queue_position": run.queue_position(),
        "task": run.task_spec or ({"name": run.task} if run.task else {}),
        "score": report.headline_score(run.task_spec, run.metrics) if run.status == "passed" else None,
        "metrics": run.metrics,
        "findings": run.findings,
        "log_tail": run.log,
        "attempts": run.attempts,
        "created": run.created.isoformat(),
        "started": run.started.isoformat() if run.started else None,
        "finished": run.finished.isoformat() if run.finished else None,
    }
