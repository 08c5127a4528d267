"""Reads: a search as the API and the page show it, and which searches a user may see."""

from __future__ import annotations

from django.http import Http404

from models_app.finder import layouts
from models_app.finder.models import Find
from models_app.finder.service import ESTIMATORS, MAX_K, MAX_MODELS, ranked
from models_app.repos.rules import visible_repos

LIMITS = {
    "max_examples": layouts.MAX_EXAMPLES,
    "max_data_bytes": layouts.MAX_BYTES,
    "max_image_pixels": layouts.MAX_IMAGE_PIXELS,
    "max_models": MAX_MODELS,
    "max_k": MAX_K,
}


def get_visible_find(user, find_id: int) -> Find:
    """A search is visible to whoever may see its dataset: the owner only, unless the dataset is public."""
    find = (
        Find.objects.filter(pk=find_id, dataset__in=visible_repos(user))
        .select_related("dataset__owner", "revision", "requested_by")
        .first()
    )
    if find is None:
        raise Http404(f"No search {find_id}.")
    return find


def find_as_json(find: Find, estimator: str = "knn") -> dict:
    estimator = estimator if estimator in ESTIMATORS else "knn"
    rows = []
    for rank, row in enumerate(ranked(find, estimator), start=1):
        rows.append(
            {
                "rank": rank,
                "model": row.model.repo_id,
                "revision": row.revision.sha,
                "status": row.status,
                "message": row.message or None,
                "knn": row.knn,
                "logme": row.logme,
                "linear_probe": row.linear_probe,
                "param_baseline": row.param_baseline,
                "num_parameters": row.num_parameters,
                "seconds": row.seconds,
                "features_cached": row.features_cached,
                "measured_accuracy": row.measured,
                "confirm_status": row.confirm_status or None,
                "confirm_message": row.confirm_message or None,
            }
        )
    return {
        "id": find.pk,
        "dataset": find.dataset.repo_id,
        "revision": find.revision.sha,
        "status": find.status,
        "message": find.message or None,
        "modality": find.modality,
        "examples": find.examples,
        "classes": find.label_names,
        "dataset_sha256": find.dataset_sha256,
        "sort": estimator,
        "estimators": list(ESTIMATORS),
        "rows": rows,
        "scored": sum(1 for r in rows if r["status"] == "done"),
        "confirmation": {
            "status": find.confirm_status or None,
            "k": find.confirm_k or None,
            "kendall_tau": find.confirm_tau or {},
        },
        "limits": LIMITS,
        "created": find.created.isoformat(),
        "finished": find.finished.isoformat() if find.finished else None,
    }
