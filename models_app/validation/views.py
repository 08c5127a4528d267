"""Website pages: a model's validation tab and the leaderboards. Views render; the rules are elsewhere."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from hub.api import ApiError
from models_app.repos.rules import can_write, get_visible_repo
from models_app.validation import report
from models_app.validation.models import ValidationRun
from models_app.validation.runs import run_rerun
from models_app.validation.selectors import estimator_agreement, leaderboard_rows, runs_of


def validation_page(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    repo = get_visible_repo(request.user, owner, name)
    history = list(runs_of(repo)[:20])
    run = history[0] if history else None
    wanted = request.GET.get("run", "")
    if wanted.isdigit():
        run = next((r for r in history if r.pk == int(wanted)), None) or runs_of(repo).filter(pk=wanted).first()
        if run is None:
            raise Http404("No such validation run for this model.")
    context = {"repo": repo, "run": run, "history": history, "can_rerun": can_write(request.user, repo)}
    if run is not None:
        metrics = run.metrics or {}
        context.update(
            queue_position=run.queue_position(),
            running_count=ValidationRun.objects.filter(status=ValidationRun.Status.RUNNING).count(),
            board=report.board(run.suite),
            detail_rows=report.detail_rows(run),
            stage_rows=report.stage_rows(metrics),
            # Built from numbers only (no user text), so they are safe to mark.
            curves=[
                c | {"finetune_svg": mark_safe(c["finetune_svg"]), "scratch_svg": mark_safe(c["scratch_svg"])}  # noqa: S308
                for c in report.task_curves(metrics)
            ],
            findings=report.findings_html_safe(run.findings),
            progress_pct=_percent(run.progress),
        )
    return render(request, "validation/run.html", context)


def _percent(progress: dict) -> int | None:
    step, total = (progress or {}).get("step"), (progress or {}).get("total")
    if isinstance(step, int) and isinstance(total, int) and total > 0:
        return max(0, min(100, round(100 * step / total)))
    return None


@login_required
@require_POST
def rerun(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    repo = get_visible_repo(request.user, owner, name)
    if not can_write(request.user, repo):
        raise PermissionDenied("Only the model's owner or staff can re-run its validation.")
    try:
        run_rerun(repo, request.user)
        messages.success(request, "Validation queued: the worker will fine-tune the latest revision again.")
    except ApiError as exc:
        messages.error(request, exc.message)
    return redirect(f"/{repo.owner.username}/{repo.name}/validation")


def leaderboards(request: HttpRequest) -> HttpResponse:
    """Each suite's board (top 5), then links to its tasks' boards."""
    boards = report.boards()
    suites = [
        (board, leaderboard_rows(request.user, board.name, limit=5), [boards[name] for name in board.tasks])
        for board in boards.values()
        if board.kind == "suite"
    ]
    return render(request, "validation/leaderboards.html", {"suites": suites})


def leaderboard(request: HttpRequest, task: str) -> HttpResponse:
    board = report.board(task)
    if board is None:
        raise Http404(f"No leaderboard named {task}.")
    rows = leaderboard_rows(request.user, task, limit=100)
    suite = report.board(board.suite)
    siblings = [report.board(name) for name in suite.tasks] if suite else []
    context = {"board": board, "rows": rows, "suite": suite, "siblings": siblings}
    if board.kind == "task":
        context["agreement"] = estimator_agreement(request.user, task)
    return render(request, "validation/leaderboard.html", context)
