"""The finder's work on the workers: score each candidate from frozen features, fine-tune the top k.

``rank_find`` and ``confirm_find`` are plain functions the Celery tasks call on
the ``gpu`` queue, one model at a time, saving each row as it is scored so the
page fills in live. Features come from the validation sandbox
(``runner.run_features``: scan, child process with limits, no unpickling) and
are cached on disk per model revision and dataset hash, so a second search on
the same data costs only the scoring.
"""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils import timezone

from models_app.finder.data import features_file, load_revision, task_file
from models_app.finder.layouts import Labelled, LayoutError
from models_app.finder.models import Find, FindRow
from models_app.finder.service import ESTIMATORS
from models_app.validation import reference, snapshots
from models_app.validation.estimators import kendall_tau, param_count_baseline, score_all
from models_app.validation.runner import run_features, run_task

KIND_FOR = {"text": reference.TEXT_CLASSIFICATION, "image": reference.IMAGE_CLASSIFICATION}


def features_path(model_sha: str, dataset_sha: str) -> Path:
    return Path(settings.VALIDATION_CACHE_DIR) / "features" / model_sha / f"{dataset_sha}.npy"


def rank_find(find_id: int) -> Find | None:
    """Score every queued row of the search; idempotent (a redelivered message skips scored rows)."""
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
            _score_row(row, data, source, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    Find.objects.filter(pk=find_id).update(status=Find.Status.DONE, finished=timezone.now())
    find.refresh_from_db()
    return find


def _score_row(row: FindRow, data: Labelled, source: Path, work: Path) -> None:
    started = time.perf_counter()
    FindRow.objects.filter(pk=row.pk).update(status="running")
    cached = features_path(row.revision.sha, data.sha256())
    # The parameter count rides beside the features, so a cached search shows the baseline too.
    sidecar = cached.with_suffix(".json")
    hit = cached.exists() and sidecar.exists()
    if not hit:
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
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(out, cached)
        sidecar.write_text(json.dumps({"num_parameters": outcome["metrics"]["num_parameters"]}))
    features = np.load(cached, allow_pickle=False)
    scores = score_all(features, data.labels)
    params = json.loads(sidecar.read_text())["num_parameters"]
    FindRow.objects.filter(pk=row.pk).update(
        status="done",
        knn=scores.get("knn"),
        logme=scores.get("logme"),
        linear_probe=scores.get("linear_probe"),
        num_parameters=params,
        param_baseline=param_count_baseline(params) if params else None,
        seconds=round(time.perf_counter() - started, 3),
        features_cached=hit,
    )


def confirm_find(find_id: int) -> Find | None:
    """Fine-tune each queued row's model on the dataset's seeded split and measure its accuracy."""
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
