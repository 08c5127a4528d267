"""Fixtures and helpers of the validation jobs tests (loaded by tests/conftest.py as a plugin)."""

from __future__ import annotations

from pathlib import Path

import pytest

from models_app.models import ModelRepo
from models_app.publish.uploads import Ingest, iter_file
from models_app.repos.revisions import revision_create
from models_app.validation.models import ValidationRun

# Tests that check a path, not a score, shrink the reference budget; a tiny BERT
# needs the full budget (scale 1.0) to pass the unchanged verdict rule.
TEST_BUDGET_SCALE = 0.02


@pytest.fixture
def jobs_settings(settings, tmp_path):
    """Own blob store, upload temp folder and worker cache per test; tiny budgets; quick heartbeats."""
    settings.BLOB_DIR = tmp_path / "blobs"
    settings.UPLOAD_TMP_DIR = tmp_path / "tmp"
    settings.UPLOAD_TMP_DIR.mkdir()
    settings.VALIDATION_CACHE_DIR = tmp_path / "cache"
    settings.VALIDATION_BUDGET_SCALE = TEST_BUDGET_SCALE
    settings.VALIDATION_HEARTBEAT_SECONDS = 1
    return settings


@pytest.fixture
def tiny_repo(owner) -> ModelRepo:
    return ModelRepo.objects.create(
        owner=owner,
        name="tiny",
        card_meta={"library_name": "transformers", "pipeline_tag": "feature-extraction"},
        library_name="transformers",
        pipeline_tag="feature-extraction",
    )


def publish_folder(repo: ModelRepo, folder: Path, *, author=None, message: str = "Upload"):
    """Upload every file of ``folder`` the way the upload endpoints do (Ingest, then one commit)."""
    ingest = Ingest(repo)
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        with path.open("rb") as handle:
            ingest.add(path.relative_to(folder).as_posix(), iter_file(handle))
    return revision_create(repo, author=author or repo.owner, message=message, add=ingest.files).revision


def publish_bytes(repo: ModelRepo, files: dict[str, bytes], *, message: str = "Upload"):
    ingest = Ingest(repo)
    for path, data in files.items():
        ingest.add(path, [data])
    return revision_create(repo, author=repo.owner, message=message, add=ingest.files).revision


def _sample_task(name: str, title: str, probe: float, tuned: float, scratch: float) -> dict:
    return {
        "name": name,
        "title": title,
        "metric": "accuracy",
        "probe": {"accuracy": probe, "macro_f1": probe - 0.01, "method": "linear probe (logistic regression)"},
        "finetuned": {"accuracy": tuned, "macro_f1": tuned - 0.005},
        "scratch": {"accuracy": scratch, "macro_f1": scratch - 0.01},
        "gain": round(tuned - scratch, 4),
        "chance_accuracy": 0.5,
        "loss_curve": {"step": [1, 2, 3, 4, 5], "loss": [0.70, 0.66, 0.61, 0.55, 0.52]},
        "scratch_loss_curve": {"step": [1, 2, 3, 4, 5], "loss": [0.70, 0.69, 0.68, 0.68, 0.67]},
        "scratch_cached": False,
        "scratch_key": name * 4,
        "train_examples_per_s": 270.5,
        "stage_seconds": {"probe": 1.2, "finetune": 17.8, "evaluate": 0.4, "scratch": 15.0, "total": 34.4},
    }


SAMPLE_METRICS = {
    "tasks": [
        _sample_task("imdb", "IMDB movie reviews", 0.61, 0.78, 0.55),
        _sample_task("fortune-topics", "Fortune topics", 0.5, 0.7, 0.6),
    ],
    "suite": {
        "metric": "accuracy",
        "tasks": 2,
        "probe": 0.555,
        "finetuned": 0.74,
        "scratch": 0.575,
        "gain": 0.165,
        "chance": 0.5,
        "loss_drop": 0.2,
    },  # fmt: skip
    "stage_seconds": {"scan": 0.01, "suite": 68.8, "total": 71.0},
    "peak_memory_bytes": 512 * 1024**2,
    "device": "cpu (x86_64, 2 threads)",
    "precision": "fp32",
    "seed": 1234,
    "torch_version": "2.13.0",
    "transformers_version": "5.0.0",
}
SAMPLE_SUITE = {
    "name": "text",
    "title": "Text classification suite",
    "kind": "text-classification",
    "metric": "accuracy",
    "tasks": [
        {"name": "imdb", "kind": "text-classification", "title": "IMDB movie reviews", "data": "imdb",
         "dataset": "IMDB movie reviews: sentiment", "dataset_sha256": "ab" * 32, "seed": 1234, "num_labels": 2,
         "budget": {"steps": 100, "batch_size": 16}, "metric": "accuracy"},
        {"name": "fortune-topics", "kind": "text-classification", "title": "Fortune topics", "data": "fortune-topics",
         "dataset": "Fortune topics", "dataset_sha256": "cd" * 32, "seed": 1234, "num_labels": 5,
         "budget": {"steps": 100, "batch_size": 16}, "metric": "accuracy"},
    ],
}  # fmt: skip


def finished_run(revision, *, status="passed", reason="", metrics=None, findings=None, log="") -> ValidationRun:
    """A run as a worker leaves it, through the state machine (claim, then finish)."""
    from models_app.validation.runs import run_finish

    run = ValidationRun.objects.create(revision=revision)
    run = ValidationRun.claim(run.pk, "test-worker")

    class Result:
        def to_dict(self):
            return {
                "verdict": status,
                "reason": reason or None,
                "message": "Mean accuracy over 2 tasks: 74.0% fine-tuned." if status == "passed" else "Refused.",
                "suite": SAMPLE_SUITE if status == "passed" else {},
                "metrics": SAMPLE_METRICS if metrics is None else metrics,
                "findings": findings or [],
                "log_tail": log,
            }

    assert run_finish(run, Result())
    run.refresh_from_db()
    return run


@pytest.fixture
def no_auto_queue():
    """Uploads in this test queue no message: the test creates and drives runs itself.

    Needed where the test's transaction really commits (``transaction=True``):
    the receiver would otherwise send a message to the broker of the developer's hub.
    """
    from models_app.repos.events import revision_created
    from models_app.validation.runs import on_revision_created

    uid = "validation.on_revision_created"
    revision_created.disconnect(dispatch_uid=uid)
    yield
    revision_created.connect(on_revision_created, dispatch_uid=uid)
