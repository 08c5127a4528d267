"""The finder's rules: start a search, rank the candidates, confirm the top k.

``find_create`` runs in the web request (it reads the dataset to refuse a bad
layout at once); ``rank_find`` and ``confirm_find`` are plain functions the
Celery tasks call on the ``gpu`` queue, one model at a time, saving each row as
it is scored so the page fills in live. Features come from the validation
sandbox (``runner.run_features``) and are cached on disk per model revision and
dataset hash: a second search on the same data costs only the scoring.
"""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hub.api import ApiError
from models_app.finder.data import features_file, load_revision, task_file
from models_app.finder.layouts import Labelled, LayoutError
from models_app.finder.models import Find, FindRow
from models_app.models import ModelRepo, Ref, Revision
from models_app.repos.rules import can_write
from models_app.validation import reference, snapshots
from models_app.validation.models import ValidationSummary

log = logging.getLogger(__name__)

MAX_MODELS = 20
DEFAULT_K = 3
MAX_K = 10
ESTIMATORS = ("knn", "logme", "linear_probe", "param_baseline")
SUITE_FOR = {"text": "text", "image": "image"}
KIND_FOR = {"text": reference.TEXT_CLASSIFICATION, "image": reference.IMAGE_CLASSIFICATION}
RANK_TASK = "models_app.finder.tasks.rank_find"
CONFIRM_TASK = "models_app.finder.tasks.confirm_find"


# ---------------------------------------------------------------- starting


def candidates(modality: str, limit: int = MAX_MODELS) -> list[tuple[ModelRepo, Revision]]:
    """Public models the hub validated on this modality's suite and that loaded and trained (best first).

    "Compatible" is what the hub measured: a model whose ``main`` ran the
    suite (passed, or failed only because it learned too little) loads with
    transformers and has the right inputs; anything else would fail in the child.
    """
    summaries = (
        ValidationSummary.objects.filter(suite=SUITE_FOR[modality], repo__private=False, run__metrics__has_key="tasks")
        .exclude(verdict="error")
        .filter(reason__in=("", "no_learning"))
        .select_related("repo__owner")
        .order_by("-score", "repo_id")[:limit]
    )
    out = []
    for summary in summaries:
        ref = Ref.objects.filter(repo=summary.repo, name="main").select_related("revision").first()
        if ref is not None:
            out.append((summary.repo, ref.revision))
    return out


def find_create(user, dataset: ModelRepo) -> Find:
    """A queued search over ``dataset``'s ``main``; 400 with the file and the problem for a bad layout."""
    ref = Ref.objects.filter(repo=dataset, name="main").select_related("revision").first()
    if ref is None:
        raise ApiError(f"{dataset.repo_id} has no files yet: upload labelled data first.", status_code=400)
    try:
        data = load_revision(ref.revision)
    except LayoutError as exc:
        raise ApiError(f"The dataset cannot be read: {exc}", status_code=400) from None
    models = candidates(data.modality)
    if not models:
        raise ApiError(f"No validated public {data.modality} model to rank yet.", status_code=409)
    with transaction.atomic():
        find = Find.objects.create(
            dataset=dataset,
            revision=ref.revision,
            requested_by=user,
            modality=data.modality,
            dataset_sha256=data.sha256(),
            examples=len(data),
            label_names=data.label_names,
        )
        FindRow.objects.bulk_create(FindRow(find=find, model=repo, revision=rev) for repo, rev in models)
        _send_on_commit(RANK_TASK, find.pk)
    return find


def find_confirm(user, find: Find, k: int = DEFAULT_K, estimator: str = "knn") -> Find:
    """Queue the fine-tune of the top ``k`` by ``estimator``; 409 while ranking or confirming."""
    if not (user.pk == find.requested_by_id or can_write(user, find.dataset)):
        raise ApiError("Only whoever started this search, or the dataset's owner, can confirm it.", status_code=403)
    if estimator not in ESTIMATORS:
        raise ApiError(f"estimator must be one of: {', '.join(ESTIMATORS)}.", status_code=400)
    if not 1 <= k <= MAX_K:
        raise ApiError(f"k must be between 1 and {MAX_K}.", status_code=400)
    with transaction.atomic():
        find = Find.objects.select_for_update().get(pk=find.pk)
        if find.status != Find.Status.DONE:
            raise ApiError("The ranking is not finished yet.", status_code=409)
        if find.confirm_status in ("queued", "running"):
            raise ApiError("A confirmation of this search is already running.", status_code=409)
        top = ranked(find, estimator)[:k]
        FindRow.objects.filter(find=find).update(confirm_status="", measured=None, confirm_message="")
        FindRow.objects.filter(pk__in=[row.pk for row in top]).update(confirm_status="queued")
        find.confirm_status, find.confirm_k, find.confirm_tau = "queued", len(top), {}
        find.save(update_fields=["confirm_status", "confirm_k", "confirm_tau"])
        _send_on_commit(CONFIRM_TASK, find.pk)
    return find


def _send_on_commit(task: str, find_id: int) -> None:
    def send() -> None:
        from celery import current_app

        try:
            current_app.signature(task, args=(find_id,)).delay()
        except Exception:  # noqa: BLE001 - a broker outage leaves the search queued; the page says so
            log.exception("could not queue %s for find %s", task, find_id)

    transaction.on_commit(send)


# ---------------------------------------------------------------- reading


def ranked(find: Find, estimator: str = "knn") -> list[FindRow]:
    """The scored rows, best first by ``estimator``; rows not scored (yet) last."""
    rows = list(find.rows.select_related("model__owner", "revision"))
    return sorted(rows, key=lambda r: (getattr(r, estimator) is None, -(getattr(r, estimator) or 0.0), r.pk))


# ---------------------------------------------------------------- work (Celery tasks call these)


def features_path(model_sha: str, dataset_sha: str) -> Path:
    return Path(settings.VALIDATION_CACHE_DIR) / "features" / model_sha / f"{dataset_sha}.npy"


def rank_find(find_id: int) -> Find | None:
    """Score every queued row of the search; idempotent (a redelivered message skips scored rows)."""
    from models_app.validation.estimators import param_count_baseline, score_all

    updated = Find.objects.filter(pk=find_id, status__in=Find.ACTIVE).update(status=Find.Status.RUNNING)
    if not updated:
        return None
    find = Find.objects.select_related("revision__repo").get(pk=find_id)
    try:
        data = load_revision(find.revision)
    except LayoutError as exc:
        Find.objects.filter(pk=find_id).update(status=Find.Status.FAILED, message=str(exc), finished=timezone.now())
        return find
    work = Path(tempfile.mkdtemp(prefix="th-find-"))
    try:
        source = features_file(data, work)
        for row in find.rows.exclude(status="done").select_related("revision"):
            _score_row(row, data, source, work, score_all, param_count_baseline)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    Find.objects.filter(pk=find_id).update(status=Find.Status.DONE, finished=timezone.now())
    find.refresh_from_db()
    return find


def _score_row(row: FindRow, data: Labelled, source: Path, work: Path, score_all, param_count_baseline) -> None:
    from models_app.validation.runner import run_features

    started = time.perf_counter()
    FindRow.objects.filter(pk=row.pk).update(status="running")
    cached = features_path(row.revision.sha, data.sha256())
    info: dict = {}
    if not cached.exists():
        snapshot = snapshots.materialize(row.revision)
        try:
            out = work / f"{row.pk}.npy"
            outcome = run_features(
                snapshot,
                kind=KIND_FOR[data.modality],
                budget=reference.TEXT_BUDGET if data.modality == "text" else reference.IMAGE_BUDGET,
                data_file=source,
                out_file=out,
                timeout_s=settings.VALIDATION_SOFT_TIME_LIMIT,
                memory_limit_bytes=settings.VALIDATION_MEMORY_LIMIT or None,
            )
        finally:
            snapshots.discard(snapshot)
        if outcome["status"] != "ok":
            FindRow.objects.filter(pk=row.pk).update(
                status="failed", message=f"{outcome.get('reason')}: {outcome.get('message')}"[:500]
            )
            return
        info = outcome["metrics"]
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(out, cached)
    features = np.load(cached, allow_pickle=False)
    scores = score_all(features, data.labels)
    params = info.get("num_parameters") or _param_count(row.revision)
    FindRow.objects.filter(pk=row.pk).update(
        status="done",
        knn=scores.get("knn"),
        logme=scores.get("logme"),
        linear_probe=scores.get("linear_probe"),
        num_parameters=params,
        param_baseline=param_count_baseline(params) if params else None,
        seconds=round(time.perf_counter() - started, 3),
        features_cached=not info,
    )


def _param_count(revision: Revision) -> int | None:
    """The parameter count when the features came from the cache: from the model's validation, else None."""
    row = FindRow.objects.filter(revision=revision, num_parameters__isnull=False).values("num_parameters").first()
    return row["num_parameters"] if row else None


def confirm_find(find_id: int) -> Find | None:
    """Fine-tune each queued row's model on the dataset's seeded split and measure its accuracy."""
    from models_app.validation.estimators import kendall_tau
    from models_app.validation.runner import run_task

    updated = Find.objects.filter(pk=find_id, confirm_status="queued").update(confirm_status="running")
    if not updated:
        return None
    find = Find.objects.select_related("revision__repo").get(pk=find_id)
    work = Path(tempfile.mkdtemp(prefix="th-confirm-"))
    try:
        data = load_revision(find.revision)
        path, n_train, n_test = task_file(data, work)
        for row in find.rows.filter(confirm_status="queued").select_related("revision"):
            FindRow.objects.filter(pk=row.pk).update(confirm_status="running")
            snapshot = snapshots.materialize(row.revision)
            try:
                outcome = run_task(snapshot, _confirm_task(data, path, n_train, n_test))
            finally:
                snapshots.discard(snapshot)
            if outcome["status"] == "ok":
                accuracy = outcome["metrics"]["tasks"][0]["finetuned"]["accuracy"]
                FindRow.objects.filter(pk=row.pk).update(confirm_status="done", measured=accuracy)
            else:
                FindRow.objects.filter(pk=row.pk).update(
                    confirm_status="failed", confirm_message=f"{outcome['reason']}: {outcome['message']}"[:500]
                )
    except LayoutError as exc:
        Find.objects.filter(pk=find_id).update(confirm_status="failed", message=str(exc))
        return find
    finally:
        shutil.rmtree(work, ignore_errors=True)
    confirmed = [r for r in find.rows.filter(confirm_status="done")]
    measured = [r.measured for r in confirmed]
    tau = {name: kendall_tau([getattr(r, name) or -math.inf for r in confirmed], measured) for name in ESTIMATORS}
    Find.objects.filter(pk=find_id).update(confirm_status="done", confirm_tau=tau)
    find.refresh_from_db()
    return find


def _confirm_task(data: Labelled, path: Path, n_train: int, n_test: int) -> dict:
    """The validation harness's task for the user's data: the suite budget, the seeded split, no scratch run."""
    base = reference.TEXT_BUDGET if data.modality == "text" else reference.IMAGE_BUDGET
    budget = dict(base, train_examples=min(base["train_examples"], n_train), test_examples=n_test)
    return {
        "name": "finder",
        "title": "Your dataset",
        "kind": KIND_FOR[data.modality],
        "data": "",
        "data_file": str(path),
        "dataset": f"{len(data):,} examples, {len(data.label_names)} classes",
        "dataset_sha256": data.sha256(),
        "seed": reference.SEED,
        "num_labels": len(data.label_names),
        "metric": "accuracy",
        "budget": budget,
        "scratch": False,
    }
