"""A real browser on the validation tab: queued, then live progress, then the verdict, without a manual reload.

The run is driven through the state machine from ``manage.py shell`` (standing in
for the worker, to keep this test fast); the page learns of it over the model's
websocket when the room consumer is installed, else by polling the runs API.
"""

from __future__ import annotations

import pytest

from tests.live import LiveHub

pytestmark = [pytest.mark.e2e, pytest.mark.live, pytest.mark.slow]


SETUP = """
from hub.models import User
from models_app.models import ModelRepo
from models_app.repos.revisions import revision_create
from models_app.publish.uploads import Ingest
alice = User.objects.create_user("alice")
repo = ModelRepo.objects.create(owner=alice, name="tiny")
ingest = Ingest(repo)
ingest.add("config.json", [b"{}"])
revision_create(repo, author=alice, message="Upload", add=ingest.files)
"""

PROGRESS = """
from models_app.validation.models import ValidationRun
from models_app.validation.runs import publish_progress
run = ValidationRun.claim(ValidationRun.objects.get().pk, "browser-test")
run.beat(stage="finetune", progress={"step": 5, "total": 10, "loss": 0.5, "task": "mnist", "task_index": 1, "tasks": 3})
publish_progress(run)
"""

FINISH = """
from models_app.validation.models import ValidationRun
from models_app.validation.runs import run_finish
run = ValidationRun.objects.get()
task = {"name": "mnist", "title": "MNIST", "metric": "accuracy", "probe": {"accuracy": 0.6},
        "finetuned": {"accuracy": 0.8}, "scratch": {"accuracy": 0.5}, "gain": 0.3, "chance_accuracy": 0.1,
        "loss_curve": {"step": [1, 2, 3], "loss": [0.7, 0.6, 0.5]}}
result = {"verdict": "passed", "reason": None, "message": "Mean accuracy over 1 tasks: 80.0% fine-tuned.",
          "suite": {"name": "image", "title": "Image classification suite", "metric": "accuracy",
                    "tasks": [{"name": "mnist", "seed": 1234, "dataset_sha256": "cd" * 32}]},
          "metrics": {"tasks": [task], "suite": {"metric": "accuracy", "tasks": 1, "finetuned": 0.8, "gain": 0.3}},
          "findings": [], "log_tail": "done"}
assert run_finish(run, result)
"""


def test_validation_tab_follows_a_run_live(browser, tmp_path):
    with LiveHub(tmp_path / "hub") as hub:
        hub.manage("shell", "-c", SETUP)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(hub.url + "/alice/tiny/validation")
        assert page.locator("[data-field=queue]").inner_text() == "Position 1 in the queue."
        hub.manage("shell", "-c", PROGRESS)
        expect = pytest.importorskip("playwright.sync_api").expect
        expect(page.locator("[data-field=stage]")).to_contain_text("finetune · task mnist (2 of 3)", timeout=20000)
        assert "loss 0.5000" in page.locator("[data-field=loss]").inner_text()
        assert page.locator("[data-field=progress]").evaluate("el => el.value") == 50
        hub.manage("shell", "-c", FINISH)
        page.wait_for_selector(".verdict-passed", timeout=20000)  # the page reloaded itself
        assert "Mean accuracy over 1 tasks: 80.0% fine-tuned." in page.content()
        assert page.locator("svg.loss-chart polyline").count() == 1
        assert page.locator('tr[data-task="mnist"] td').all_inner_texts()[1:5] == [
            "60.0%",
            "80.0%",
            "50.0%",
            "+30.0 pts",
        ]
        assert errors == []
