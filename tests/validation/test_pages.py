"""The validation tab, re-run, leaderboards, the API and the model-index shape, as users see them."""

from __future__ import annotations

import pytest
from django.test import Client

from models_app.models import ModelRepo
from models_app.validation.models import ValidationRun
from models_app.validation.report import model_index_for
from tests.validation.jobs_fixtures import finished_run, publish_bytes

pytestmark = pytest.mark.django_db

FINDINGS = [
    {"path": "model.safetensors", "kind": "safetensors", "status": "ok", "detail": "header sound", "globals": []},
    {
        "path": "pytorch_model.bin",
        "kind": "pickle",
        "status": "unsafe",
        "detail": "dangerous imports",
        "globals": ["builtins.open (dangerous)"],
    },
]


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def passed(jobs_settings, tiny_repo):
    revision = publish_bytes(tiny_repo, {"config.json": b"{}"})
    return finished_run(revision, findings=FINDINGS, log="step 5 loss 0.52\n<script>alert(1)</script>")


def test_validation_tab_shows_verdict_metrics_chart_findings_and_log(passed, anon_client):
    page = anon_client.get("/alice/tiny/validation")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'aria-current="page">Validation' in html
    assert "verdict-passed" in html and "Mean accuracy over 2 tasks: 74.0% fine-tuned." in html
    # The per-task table: probe, fine-tuned, scratch and the gain, then the suite's mean.
    assert 'data-task="imdb"' in html and 'data-task="fortune-topics"' in html and 'data-task="mean"' in html
    imdb = html[html.index('data-task="imdb"') : html.index('data-task="fortune-topics"')]
    assert "61.0%" in imdb and "78.0%" in imdb and "55.0%" in imdb and "+23.0 pts" in imdb
    mean = html[html.index('data-task="mean"') :]
    assert "74.0%" in mean and "57.5%" in mean and "+16.5 pts" in mean
    assert html.count('class="loss-chart"') == 4  # fine-tune and scratch curves of each task
    assert "cpu (x86_64, 2 threads)" in html and "512 MiB" in html
    assert "abababab" in html and "cdcdcdcd" in html and "1234" in html  # each dataset's hash, the seed
    assert "pytorch_model.bin" in html and "builtins.open (dangerous)" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "Re-run validation" not in html  # anonymous visitors cannot re-run


def test_queued_run_shows_its_queue_position(jobs_settings, tiny_repo, anon_client):
    revision = publish_bytes(tiny_repo, {"config.json": b"{}"})
    ValidationRun.objects.create(revision=revision)
    mine = ValidationRun.objects.create(revision=revision)
    html = anon_client.get("/alice/tiny/validation").content.decode()
    assert f'data-run="{mine.pk}"' in html and 'data-status="queued"' in html
    assert "Position 2 in the queue" in html
    assert "js/validation.js" in html


def test_owner_reruns_from_the_page_others_cannot(passed, owner, other_user):
    assert "Re-run validation" not in _login(other_user).get("/alice/tiny/validation").content.decode()
    client = _login(owner)
    assert "Re-run validation" in client.get("/alice/tiny/validation").content.decode()
    response = client.post("/alice/tiny/validation/rerun", follow=True)
    assert response.status_code == 200
    assert "Validation queued" in response.content.decode()
    assert ValidationRun.objects.filter(revision=passed.revision, status="queued").count() == 1
    again = client.post("/alice/tiny/validation/rerun", follow=True).content.decode()
    assert "already queued" in again
    refused = _login(other_user).post("/alice/tiny/validation/rerun", follow=True).content.decode()
    assert "Only the model&#x27;s owner or staff" in refused


def test_private_model_validation_is_hidden_from_others(passed, other_user, anon_client, owner):
    ModelRepo.objects.filter(pk=passed.revision.repo_id).update(private=True)
    assert anon_client.get("/alice/tiny/validation").status_code == 404
    assert _login(other_user).get("/alice/tiny/validation").status_code == 404
    assert anon_client.get("/api/models/alice/tiny/validation").status_code == 404
    assert _login(owner).get("/alice/tiny/validation").status_code == 200
    assert anon_client.get("/api/leaderboards/imdb").json()["rows"] == []
    assert anon_client.get("/api/leaderboards/text").json()["rows"] == []


def test_api_lists_runs_and_reruns_with_a_write_token(passed, anon_client, write_client, read_client, other_client):
    body = anon_client.get("/api/models/alice/tiny/validation").json()
    (run,) = body["runs"]
    assert (run["status"], run["verdict"], run["reason"], run["score"]) == ("passed", "passed", None, 0.74)
    assert run["suite"]["name"] == "text" and run["suite"]["mean"]["gain"] == 0.165
    assert run["tasks"][0] | {"seconds": None} == {
        "name": "imdb",
        "title": "IMDB movie reviews",
        "metric": "accuracy",
        "probe": 0.61,
        "finetuned": 0.78,
        "scratch": 0.55,
        "gain": 0.23,
        "chance": 0.5,
        "macro_f1": 0.775,
        "scratch_cached": False,
        "seconds": None,
    }
    assert run["spec"]["tasks"][0]["seed"] == 1234 and run["spec"]["tasks"][0]["dataset_sha256"] == "ab" * 32
    assert run["findings"][1]["status"] == "unsafe"
    assert read_client.post("/api/models/alice/tiny/validation").status_code == 403
    denied = other_client.post("/api/models/alice/tiny/validation")
    assert denied.status_code == 403 and "owner or staff" in denied.json()["error"]
    queued = write_client.post("/api/models/alice/tiny/validation")
    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    assert queued.json()["queue_position"] == 1
    busy = write_client.post("/api/models/alice/tiny/validation")
    assert busy.status_code == 409 and busy.json()["detail"] == {"run": queued.json()["id"]}
    assert [r["status"] for r in anon_client.get("/api/models/alice/tiny/validation").json()["runs"]] == [
        "queued",
        "passed",
    ]


def test_leaderboards_rank_passed_models_best_first(passed, other_user, anon_client):
    import copy

    from models_app.validation.runs import summary_update

    bob_repo = ModelRepo.objects.create(owner=other_user, name="better")
    better = finished_run(publish_bytes(bob_repo, {"config.json": b"{}"}))
    metrics = copy.deepcopy(better.metrics)
    metrics["tasks"][0]["finetuned"] = {"accuracy": 0.91, "macro_f1": 0.9}  # better on imdb
    metrics["tasks"][1]["finetuned"] = {"accuracy": 0.6, "macro_f1": 0.6}  # worse on fortune-topics
    metrics["suite"]["finetuned"] = 0.755
    better.metrics = metrics
    better.save()
    summary_update(better)

    imdb = anon_client.get("/api/leaderboards/imdb").json()
    assert imdb["metric"] == "accuracy" and imdb["higher_is_better"] is True and imdb["board"]["suite"] == "text"
    assert [(r["rank"], r["model"], r["value"], r["scratch"]) for r in imdb["rows"]] == [
        (1, "bob/better", 0.91, 0.55),
        (2, "alice/tiny", 0.78, 0.55),
    ]
    # The rank changes from one task to the next, and the suite ranks by the mean.
    topics = anon_client.get("/api/leaderboards/fortune-topics").json()
    assert [r["model"] for r in topics["rows"]] == ["alice/tiny", "bob/better"]
    suite = anon_client.get("/api/leaderboards/text").json()
    assert [(r["model"], r["value"], r["gain"]) for r in suite["rows"]] == [
        ("bob/better", 0.755, 0.165),
        ("alice/tiny", 0.74, 0.165),
    ]
    missing = anon_client.get("/api/leaderboards/nope")
    assert missing.status_code == 404 and "fortune-topics" in missing.json()["error"]
    html = anon_client.get("/leaderboards/imdb").content.decode()
    assert html.index("bob/better") < html.index("alice/tiny")
    overview = anon_client.get("/leaderboards").content.decode()
    assert "Text classification suite" in overview and "Image classification suite" in overview
    assert "Fashion-MNIST" in overview and "No model has passed this suite yet." in overview
    assert anon_client.get("/leaderboards/nope").status_code == 404


def test_leaderboards_api_lists_every_task_with_its_modality_and_suite(anon_client):
    boards = anon_client.get("/api/leaderboards").json()["leaderboards"]
    tasks = {b["name"]: (b["modality"], b["suite"]) for b in boards if b["kind"] == "task"}
    assert sum(modality == "text" for modality, _ in tasks.values()) >= 3
    assert sum(modality == "image" for modality, _ in tasks.values()) >= 3
    assert tasks["imdb-next-token"] == ("causal-lm", "causal-lm")
    suites = {b["name"]: b["tasks"] for b in boards if b["kind"] == "suite"}
    assert set(suites) == {"text", "image", "causal-lm"}
    assert all(tasks[name][1] == suite for suite, names in suites.items() for name in names)


def test_a_failed_main_leaves_the_task_leaderboards(passed, tiny_repo, anon_client):
    assert [r["model"] for r in anon_client.get("/api/leaderboards/imdb").json()["rows"]] == ["alice/tiny"]
    finished_run(publish_bytes(tiny_repo, {"config.json": b"{ }"}), status="failed", reason="no_learning", metrics={})
    assert anon_client.get("/api/leaderboards/imdb").json()["rows"] == []
    assert anon_client.get("/api/leaderboards/text").json()["rows"] == []


def test_leaderboard_api_and_runs_api_are_in_the_openapi_schema(anon_client):
    schema = anon_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/leaderboards/{task}" in schema["paths"] and "/api/leaderboards" in schema["paths"]
    assert "/api/models/{owner}/{name}/validation" in schema["paths"]


def test_model_index_for_gives_the_hugging_face_card_shape(passed, tiny_repo):
    (entry,) = model_index_for(tiny_repo)
    assert entry["name"] == "alice/tiny"
    result, topics = entry["results"]
    assert result["task"]["type"] == "text-classification" and topics["dataset"]["type"] == "fortune-topics"
    assert result["dataset"]["type"] == "imdb" and result["dataset"]["revision"] == "ab" * 32
    assert {"type": "accuracy", "name": "Accuracy (fine-tuned)", "value": 0.78, "verified": False} in result["metrics"]
    assert {"type": "accuracy", "name": "Accuracy (from scratch)", "value": 0.55, "verified": False} in result[
        "metrics"
    ]
    # The model's API detail carries the same result.
    assert Client().get("/api/models/alice/tiny").json()["model-index"] == [entry]


def test_model_index_is_empty_without_a_passed_run(jobs_settings, tiny_repo):
    assert model_index_for(tiny_repo) == []
    finished_run(publish_bytes(tiny_repo, {"config.json": b"{}"}), status="failed", reason="unsafe_format", metrics={})
    assert model_index_for(tiny_repo) == []
    assert "unsafe_format" in Client().get("/alice/tiny/validation").content.decode()


def test_verdict_summary_is_one_readable_sentence(passed, jobs_settings, other_user):
    from models_app.validation.report import verdict_summary

    assert verdict_summary(passed) == (
        f"Validation of {passed.revision.sha[:8]}: passed the text classification suite, "
        "mean accuracy 74.0% over 2 tasks, +16.5 pts over scratch."
    )
    repo = ModelRepo.objects.create(owner=other_user, name="pickled")
    refused = finished_run(publish_bytes(repo, {"a.pkl": b"x"}), status="failed", reason="unsafe_format", metrics={})
    assert verdict_summary(refused).endswith(": failed (unsafe_format). Refused.")
