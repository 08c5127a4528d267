"""Reads: a repo's runs, a task's leaderboard, a run as the API shows it."""

from __future__ import annotations

from django.db.models import QuerySet

from models_app.models import ModelRepo
from models_app.repos.rules import visible_repos
from models_app.validation import report
from models_app.validation.models import TaskScore, ValidationRun, ValidationSummary


def runs_of(repo: ModelRepo) -> QuerySet[ValidationRun]:
    return ValidationRun.objects.filter(revision__repo=repo).select_related("revision").order_by("-created", "-id")


def leaderboard_rows(user, name: str, *, limit: int = 100) -> list[dict]:
    """The passed ``main`` of every model ``user`` may see on one board, best first.

    A suite board ranks by the suite's mean (``ValidationSummary``), a task
    board by that task's fine-tuned score (``TaskScore``); both show the linear
    probe, the scratch baseline and the gain beside it.
    """
    board = report.board(name)
    if board is None:
        return []
    visible = visible_repos(user)
    if board.kind == "suite":
        rows_qs = (
            ValidationSummary.objects.filter(suite=name, verdict="passed", repo__in=visible)
            .select_related("repo__owner", "run__revision")
            .order_by("-score", "finished")[:limit]
        )
        picked = [(s.repo, s.run, (s.run.metrics or {}).get("suite") or {}, s.finished) for s in rows_qs]
    else:
        rows_qs = (
            TaskScore.objects.filter(task=name, repo__in=visible)
            .select_related("repo__owner", "run__revision")
            .order_by("-score", "finished")[:limit]
        )
        picked = []
        for score in rows_qs:
            task = next((t for t in (score.run.metrics or {}).get("tasks") or [] if t.get("name") == name), {})
            picked.append((score.repo, score.run, task, score.finished))
    rows = []
    for rank, (repo, run, part, finished) in enumerate(picked, start=1):
        metrics = run.metrics or {}

        def value(key: str, part=part):
            item = part.get(key)
            return item.get(board.metric) if isinstance(item, dict) else item

        rows.append(
            {
                "rank": rank,
                "model": repo.repo_id,
                "revision": run.revision.sha,
                "run": run.pk,
                "metric": board.metric,
                "value": value("finetuned"),
                "probe": value("probe"),
                "scratch": value("scratch"),
                "gain": part.get("gain"),
                "device": metrics.get("device", ""),
                "finished": finished.isoformat(),
            }
        )
    return rows


def estimator_agreement(user, name: str) -> dict:
    """How well each estimator predicted the fine-tuned order of the models on one task: Kendall's tau.

    Across every visible model with a passed ``main`` on the task. ``None`` where
    fewer than two models have the estimate (or its values are all equal).
    """
    from models_app.validation.estimators import SCORES, kendall_tau

    rows = list(TaskScore.objects.filter(task=name, repo__in=visible_repos(user)).values("finetuned", "estimates"))
    out: dict = {"models": len(rows)}
    for estimator in SCORES:
        pairs = [(r["estimates"].get(estimator), r["finetuned"]) for r in rows if r["estimates"]]
        pairs = [(e, f) for e, f in pairs if isinstance(e, int | float) and isinstance(f, int | float)]
        out[estimator] = kendall_tau([e for e, _ in pairs], [f for _, f in pairs]) if len(pairs) >= 2 else None
    return out


def task_results(run: ValidationRun) -> list[dict]:
    """Per task: the linear probe, the fine-tune, the scratch baseline and the gain (API shape)."""
    out = []
    for task in (run.metrics or {}).get("tasks") or []:
        metric = task.get("metric", "accuracy")
        out.append(
            {
                "name": task.get("name"),
                "title": task.get("title"),
                "metric": metric,
                "probe": (task.get("probe") or {}).get(metric),
                "finetuned": (task.get("finetuned") or {}).get(metric),
                "scratch": (task.get("scratch") or {}).get(metric),
                "gain": task.get("gain"),
                "chance": task.get("chance_accuracy"),
                "macro_f1": (task.get("finetuned") or {}).get("macro_f1"),
                "scratch_cached": bool(task.get("scratch_cached")),
                "seconds": (task.get("stage_seconds") or {}).get("total"),
            }
        )
    return out


def run_as_json(run: ValidationRun) -> dict:
    spec = run.suite_spec or {}
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
        "suite": {
            "name": run.suite or None,
            "title": spec.get("title"),
            "metric": spec.get("metric"),
            "mean": (run.metrics or {}).get("suite") or None,
        },
        "tasks": task_results(run),
        "spec": spec,
        "score": report.headline_score(run.metrics) if run.status == "passed" else None,
        "metrics": run.metrics,
        "findings": run.findings,
        "log_tail": run.log,
        "attempts": run.attempts,
        "created": run.created.isoformat(),
        "started": run.started.isoformat() if run.started else None,
        "finished": run.finished.isoformat() if run.finished else None,
    }
