"""Finder pages: start a search from a dataset (or an uploaded file), and watch it rank the models."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from hub.api import ApiError
from models_app.finder.models import Find
from models_app.finder.selectors import LIMITS, find_as_json, get_visible_find
from models_app.finder.service import (
    DEFAULT_K,
    ESTIMATORS,
    can_confirm,
    dataset_from_upload,
    find_confirm,
    find_create,
)
from models_app.repos.rules import get_visible_repo, visible_repos

ESTIMATOR_LABELS = {
    "knn": "k-NN (leave-one-out)",
    "logme": "LogME",
    "linear_probe": "Linear probe (5-fold)",
    "param_baseline": "Parameter count (baseline)",
}


def find_home(request: HttpRequest) -> HttpResponse:
    """Pick one of your datasets (or a public one), or upload a file; lists your recent searches."""
    datasets, recent = [], []
    if request.user.is_authenticated:
        datasets = list(
            visible_repos(request.user).filter(repo_type="dataset", owner=request.user).order_by("-updated")[:50]
        )
        recent = list(Find.objects.filter(requested_by=request.user).select_related("dataset__owner")[:10])
    return render(request, "finder/home.html", {"datasets": datasets, "recent": recent, "limits": LIMITS})


@login_required
@require_POST
def find_upload(request: HttpRequest) -> HttpResponse:
    """A file uploaded on the finder page becomes a private dataset repo, then a search on it."""
    try:
        dataset = dataset_from_upload(request.user, request.FILES.getlist("files"))
    except ApiError as exc:
        messages.error(request, exc.message)
        return redirect("/find")
    try:
        find = find_create(request.user, dataset)
    except ApiError as exc:
        messages.error(request, f"Saved as the private dataset {dataset.repo_id}. {exc.message}")
        return redirect(f"/datasets/{dataset.repo_id}")
    return redirect(f"/finds/{find.pk}")


@login_required
@require_POST
def find_start(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    dataset = get_visible_repo(request.user, owner, name, repo_type="dataset")
    try:
        find = find_create(request.user, dataset)
    except ApiError as exc:
        messages.error(request, exc.message)
        return redirect(f"/datasets/{dataset.repo_id}")
    return redirect(f"/finds/{find.pk}")


def find_page(request: HttpRequest, find_id: int) -> HttpResponse:
    find = get_visible_find(request.user, find_id)
    estimator = request.GET.get("sort", "knn")
    body = find_as_json(find, estimator)
    context = {
        "find": find,
        "body": body,
        "estimators": [(key, ESTIMATOR_LABELS[key]) for key in ESTIMATORS],
        "sort": body["sort"],
        "sort_label": ESTIMATOR_LABELS[body["sort"]],
        "can_confirm": can_confirm(request.user, find),
        "default_k": DEFAULT_K,
        "active": find.is_active,
    }
    return render(request, "finder/find.html", context)


@login_required
@require_POST
def find_confirm_view(request: HttpRequest, find_id: int) -> HttpResponse:
    find = get_visible_find(request.user, find_id)
    if not can_confirm(request.user, find):
        raise PermissionDenied("Only whoever started this search, or the dataset's owner, can confirm it.")
    estimator = request.POST.get("sort", "knn")
    try:
        find_confirm(request.user, find, int(request.POST.get("k") or DEFAULT_K), estimator)
        messages.success(request, "Confirmation queued: the top models will be fine-tuned on your data.")
    except (ApiError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", "k must be a whole number."))
    return redirect(f"/finds/{find.pk}?sort={estimator}")
