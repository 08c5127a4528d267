"""``execute_run`` called directly (no broker): real uploads, the real runner and child process.

These tests commit for real (``transaction=True``) because the worker writes
heartbeats from its own thread, as it does in production.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from channels.layers import get_channel_layer

from models_app.models import ModelRepo
from models_app.repos.events import live_group, validation_finished
from models_app.validation.models import ScratchBaseline, ValidationRun, ValidationSummary
from models_app.validation.tasks import execute_run, validate_revision
from tests.factories import tiny_models
from tests.models_app.multipart_body import CONTENT_TYPE as MULTIPART
from tests.models_app.multipart_body import multipart
from tests.validation.jobs_fixtures import publish_folder

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _run_for(revision) -> ValidationRun:
    return ValidationRun.objects.create(revision=revision)


class LiveListener(threading.Thread):
    """A channel in the model's live group, drained as events arrive: what a browser on the page sees."""

    def __init__(self, repo_pk: int):
        super().__init__(daemon=True)
        self.group = live_group(repo_pk)
        self.events: list[dict] = []
        self.ready = threading.Event()

    def run(self) -> None:
        asyncio.run(self._collect())

    async def _collect(self) -> None:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(self.group, channel)
        self.ready.set()
        while True:
            message = await asyncio.wait_for(layer.receive(channel), 900)
            self.events.append(message)
            if message.get("event") == "validation.finished":
                return

    def __enter__(self) -> LiveListener:
        self.start()
        assert self.ready.wait(30)
        return self

    def __exit__(self, *exc) -> None:
        self.join(timeout=30)


@pytest.fixture
def eager_queue():
    """Celery's eager mode: a queued message runs at once in this process, as a worker would run it."""
    from hub.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.mark.timeout(900)  # the full published budget; minutes on a busy 2-core machine
def test_small_cnn_uploaded_by_api_passes_the_image_suite_with_every_metric(
    jobs_settings, write_client, tmp_path, eager_queue
):
    jobs_settings.VALIDATION_BUDGET_SCALE = 1.0  # the published budget: it must learn for real
    created = write_client.post("/api/models", {"name": "tiny", "pipeline_tag": "image-classification"}, format="json")
    assert created.status_code == 201, created.json()
    repo = ModelRepo.objects.get(name="tiny")
    folder = tiny_models.build_tiny_resnet(tmp_path / "cnn")
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    announced = []

    def receiver(sender, run, **kwargs):
        announced.append((run.pk, run.status))

    validation_finished.connect(receiver, dispatch_uid="test-announced")
    try:
        with LiveListener(repo.pk) as listener:
            # The upload commits, the receiver queues the run, and (eager) the task runs it.
            uploaded = write_client.post("/api/models/alice/tiny/upload", data=multipart(files), content_type=MULTIPART)
    finally:
        validation_finished.disconnect(dispatch_uid="test-announced")
    assert uploaded.status_code == 201, uploaded.json()
    run = done = ValidationRun.objects.get(revision__repo=repo)
    assert done.revision.sha == uploaded.json()["sha"]
    assert (done.status, done.reason, done.attempts) == ("passed", "", 1), done.message
    metrics = done.metrics
    assert done.suite == "image" and [t["name"] for t in done.suite_spec["tasks"]] == [
        t["name"] for t in metrics["tasks"]
    ]
    for task in metrics["tasks"]:
        for part in ("probe", "finetuned", "scratch"):
            assert 0 <= task[part]["accuracy"] <= 1 and 0 <= task[part]["macro_f1"] <= 1
        assert task["finetuned"]["accuracy"] >= task["chance_accuracy"] + 0.1
        assert len(task["loss_curve"]["loss"]) >= 2 and task["train_examples_per_s"] > 0
    assert metrics["suite"]["tasks"] == len(metrics["tasks"]) >= 3
    assert metrics["peak_memory_bytes"] > 0 and metrics["device"].startswith(("cpu", "NVIDIA"))
    assert all(len(t["dataset_sha256"]) == 64 and t["seed"] for t in done.suite_spec["tasks"])
    assert done.findings and all(f["status"] == "ok" for f in done.findings if f["kind"] == "safetensors")
    summary = ValidationSummary.objects.get(repo=repo)
    assert (summary.run_id, summary.verdict, summary.score) == (run.pk, "passed", metrics["suite"]["finetuned"])
    assert summary.gain == metrics["suite"]["gain"]
    # The scratch baselines were kept: the next revision of this network reuses them.
    assert ScratchBaseline.objects.filter(run=run).count() == len(metrics["tasks"])
    assert announced == [(run.pk, "passed")]
    events = listener.events
    stages = [e["data"]["stage"] for e in events if e["event"] == "validation.progress"]
    assert "finetune" in stages
    assert events[-1]["data"]["verdict"] == "passed" and events[-1]["data"]["run"] == run.pk
    # The worker's snapshot is gone; the blobs stay cached by sha256 for the next run.
    cache = jobs_settings.VALIDATION_CACHE_DIR
    assert not any((cache / "snapshots").iterdir())
    assert any((cache / "blobs").rglob("*"))


def test_same_message_delivered_twice_runs_once(jobs_settings, tiny_repo, no_auto_queue, tmp_path):
    folder = tiny_models.build_remote_code_model(tmp_path / "m")  # refused at the scan: quick
    run = _run_for(publish_folder(tiny_repo, folder))
    validate_revision.apply(args=(run.pk,))  # as a worker would run the message
    validate_revision.apply(args=(run.pk,))  # the broker delivers it again
    assert execute_run(run.pk) is None
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("failed", 1)


def test_pickle_only_model_is_never_unpickled(jobs_settings, tiny_repo, no_auto_queue, tmp_path):
    canary = tmp_path / "canary"
    folder = tiny_models.build_pickle_canary_model(tmp_path / "m", canary)
    run = execute_run(_run_for(publish_folder(tiny_repo, folder)).pk)
    assert (run.status, run.reason) == ("failed", "unsafe_format")
    assert not canary.exists()
    pickles = {f["path"]: f for f in run.findings if f["kind"] == "pickle"}
    assert set(pickles) == {"pytorch_model.bin", "training_args.pkl"}
    assert all(f["status"] == "unsafe" for f in pickles.values())
    assert any("open" in name for name in pickles["pytorch_model.bin"]["globals"])


def test_config_asking_for_remote_code_is_refused(jobs_settings, tiny_repo, no_auto_queue, tmp_path):
    canary = tmp_path / "remote-code-ran"
    folder = tiny_models.build_remote_code_model(tmp_path / "m", canary)
    run = execute_run(_run_for(publish_folder(tiny_repo, folder)).pk)
    assert (run.status, run.reason) == ("failed", "remote_code_required")
    assert "auto_map" in run.message or "remote code" in run.message.lower()
    assert not canary.exists()


def test_corrupted_safetensors_header_is_a_load_error(jobs_settings, tiny_repo, no_auto_queue, tiny_bert_copy):
    folder = tiny_bert_copy
    tiny_models.corrupt_safetensors_header(folder)
    run = execute_run(_run_for(publish_folder(tiny_repo, folder)).pk)
    assert (run.status, run.reason) == ("failed", "load_error")
    assert run.message
    assert any(f["path"] == "model.safetensors" and f["status"] == "corrupt" for f in run.findings)
    assert ValidationSummary.objects.get(repo=tiny_repo).verdict == "failed"


def test_unknown_architecture_is_named_not_a_crash(jobs_settings, tiny_repo, no_auto_queue, tmp_path):
    folder = tiny_models.build_unknown_architecture_model(tmp_path / "m")
    run = execute_run(_run_for(publish_folder(tiny_repo, folder)).pk)
    assert (run.status, run.reason) == ("failed", "unsupported_architecture")
