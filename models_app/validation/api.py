"""REST API: a model's validation runs (and a re-run), and the leaderboards."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.api import ApiError
from models_app.repos.rules import get_visible_repo
from models_app.validation import report
from models_app.validation.runs import run_rerun
from models_app.validation.selectors import estimator_agreement, leaderboard_rows, run_as_json, runs_of

RunSchema = inline_serializer(
    "ValidationRun",
    {
        "id": serializers.IntegerField(),
        "revision": serializers.CharField(),
        "status": serializers.ChoiceField(["queued", "running", "passed", "failed", "error"]),
        "verdict": serializers.CharField(allow_null=True),
        "reason": serializers.CharField(allow_null=True, help_text="typed reason when failed or error"),
        "message": serializers.CharField(),
        "stage": serializers.CharField(allow_null=True),
        "progress": serializers.DictField(help_text="{step, total, loss}"),
        "queue_position": serializers.IntegerField(allow_null=True),
        "suite": serializers.DictField(help_text="{name, title, metric, mean: {probe, finetuned, scratch, gain, ...}}"),
        "tasks": serializers.ListField(
            child=serializers.DictField(),
            help_text="per task: {name, title, metric, probe, finetuned, scratch, gain, chance, ...}",
        ),
        "spec": serializers.DictField(help_text="the suite as run: each task's dataset, sha256, seed and budget"),
        "score": serializers.FloatField(allow_null=True),
        "metrics": serializers.DictField(),
        "findings": serializers.ListField(child=serializers.DictField()),
        "log_tail": serializers.CharField(),
        "attempts": serializers.IntegerField(),
        "created": serializers.DateTimeField(),
        "started": serializers.DateTimeField(allow_null=True),
        "finished": serializers.DateTimeField(allow_null=True),
    },
)

BoardSchema = inline_serializer(
    "Board",
    {
        "name": serializers.CharField(),
        "title": serializers.CharField(),
        "kind": serializers.ChoiceField(["suite", "task"]),
        "suite": serializers.CharField(),
        "modality": serializers.CharField(),
        "metric": serializers.CharField(),
        "higher_is_better": serializers.BooleanField(),
        "description": serializers.CharField(),
        "tasks": serializers.ListField(child=serializers.CharField()),
        "url": serializers.CharField(),
        "api": serializers.CharField(),
    },
)

LeaderboardSchema = inline_serializer(
    "Leaderboard",
    {
        "board": BoardSchema,
        "task": serializers.CharField(help_text="the board's name (a task or a suite)"),
        "title": serializers.CharField(),
        "metric": serializers.CharField(),
        "higher_is_better": serializers.BooleanField(),
        "rows": serializers.ListField(child=serializers.DictField()),
        "estimator_tau": serializers.DictField(
            allow_null=True,
            help_text="a task board: Kendall's tau between each estimator's order and the fine-tuned order "
            "across the hub's models ({models, knn, logme, linear_probe, param_baseline})",
        ),
    },
)


class ModelValidationApi(APIView):
    @extend_schema(
        summary="Validation runs of a model, newest first",
        parameters=[OpenApiParameter("limit", int, description="at most this many runs (default 20, max 100)")],
        responses={200: inline_serializer("ValidationRuns", {"runs": serializers.ListField(child=RunSchema)})},
        tags=["validation"],
    )
    def get(self, request: Request, owner: str, name: str) -> Response:
        repo = get_visible_repo(request.user, owner, name)
        try:
            limit = max(1, min(100, int(request.query_params.get("limit", 20))))
        except ValueError:
            raise ApiError("limit must be a whole number.", status_code=400) from None
        return Response({"runs": [run_as_json(run) for run in runs_of(repo)[:limit]]})

    @extend_schema(
        summary="Re-run the validation of the model's main revision (owner or staff)",
        request=None,
        responses={202: RunSchema},
        tags=["validation"],
    )
    def post(self, request: Request, owner: str, name: str) -> Response:
        repo = get_visible_repo(request.user, owner, name)
        run = run_rerun(repo, request.user)
        return Response(run_as_json(run), status=202)


class LeaderboardsApi(APIView):
    @extend_schema(
        summary="Every leaderboard: each suite, then its tasks, with modality and metric",
        operation_id="leaderboards_list",
        responses={200: inline_serializer("Leaderboards", {"leaderboards": serializers.ListField(child=BoardSchema)})},
        tags=["validation"],
    )
    def get(self, request: Request) -> Response:
        return Response({"leaderboards": [board.to_dict() for board in report.boards().values()]})


class LeaderboardApi(APIView):
    @extend_schema(
        summary="One leaderboard (a task or a suite): each model's passed main, best first",
        operation_id="leaderboard_retrieve",
        responses={200: LeaderboardSchema},
        tags=["validation"],
    )
    def get(self, request: Request, task: str) -> Response:
        board = report.board(task)
        if board is None:
            raise ApiError(
                f"No leaderboard named {task!r}; try one of: {', '.join(report.boards())}.",
                status_code=404,
            )
        return Response(
            {
                "board": board.to_dict(),
                "task": board.name,
                "title": board.title,
                "metric": board.metric,
                "higher_is_better": board.higher_is_better,
                "rows": leaderboard_rows(request.user, task, limit=100),
                "estimator_tau": estimator_agreement(request.user, task) if board.kind == "task" else None,
            }
        )
