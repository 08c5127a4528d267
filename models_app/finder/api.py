"""REST API of the finder: start a search on a dataset, read it, confirm its top k."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.api import ApiError
from hub.permissions import IsAuthenticatedForWrites, TokenScopeAllows
from models_app.finder.selectors import find_as_json, get_visible_find
from models_app.finder.service import DEFAULT_K, ESTIMATORS, find_confirm, find_create
from models_app.repos.rules import get_visible_repo

WRITE = [TokenScopeAllows, IsAuthenticatedForWrites]
FindSchema = inline_serializer(
    "Find",
    {
        "id": serializers.IntegerField(),
        "dataset": serializers.CharField(),
        "status": serializers.ChoiceField(["queued", "running", "done", "failed"]),
        "message": serializers.CharField(allow_null=True),
        "modality": serializers.ChoiceField(["text", "image"]),
        "examples": serializers.IntegerField(),
        "classes": serializers.ListField(child=serializers.CharField()),
        "sort": serializers.ChoiceField(list(ESTIMATORS)),
        "rows": serializers.ListField(
            child=serializers.DictField(),
            help_text="ranked: {rank, model, revision, status, knn, logme, linear_probe, param_baseline, "
            "num_parameters, seconds, features_cached, measured_accuracy, confirm_status}",
        ),
        "confirmation": serializers.DictField(help_text="{status, k, kendall_tau: {estimator: tau}}"),
        "limits": serializers.DictField(),
    },
)
SORT = OpenApiParameter("sort", str, enum=list(ESTIMATORS), description="the estimator to rank by (default knn)")


def _dataset(request: Request, owner: str, name: str):
    return get_visible_repo(request.user, owner, name, repo_type="dataset")


class DatasetFindApi(APIView):
    permission_classes = WRITE

    @extend_schema(
        summary="Rank every compatible public model for this dataset (starts a search)",
        description="Reads the dataset's labelled examples (CSV/JSONL text+label, or train/<class>/ images), then "
        "workers score each model from frozen features. Poll GET /api/finds/{id}.",
        request=None,
        responses={202: FindSchema},
        tags=["finder"],
    )
    def post(self, request: Request, owner: str, name: str) -> Response:
        find = find_create(request.user, _dataset(request, owner, name))
        return Response(find_as_json(find), status=202)


class FindApi(APIView):
    @extend_schema(summary="A search: status, ranked rows, confirmation", parameters=[SORT],
                   responses={200: FindSchema}, tags=["finder"])  # fmt: skip
    def get(self, request: Request, find_id: int) -> Response:
        find = get_visible_find(request.user, find_id)
        return Response(find_as_json(find, request.query_params.get("sort", "knn")))


class FindConfirmApi(APIView):
    permission_classes = WRITE

    @extend_schema(
        summary="Fine-tune the top k models of a finished search on the dataset's seeded split",
        request=inline_serializer("FindConfirm", {"k": serializers.IntegerField(required=False, default=DEFAULT_K),
                                                   "sort": serializers.ChoiceField(list(ESTIMATORS), required=False)}),
        responses={202: FindSchema},
        tags=["finder"],
    )  # fmt: skip
    def post(self, request: Request, find_id: int) -> Response:
        find = get_visible_find(request.user, find_id)
        body = request.data if isinstance(request.data, dict) else {}
        try:
            k = int(body.get("k", request.query_params.get("k", DEFAULT_K)))
        except (TypeError, ValueError):
            raise ApiError("k must be a whole number.", status_code=400) from None
        estimator = str(body.get("sort", request.query_params.get("sort", "knn")))
        find = find_confirm(request.user, find, k, estimator)
        return Response(find_as_json(find, estimator), status=202)
