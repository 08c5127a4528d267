"""Pull requests validated like revisions: queued per head, superseded by a newer commit, compared with main."""

from __future__ import annotations

import copy

import pytest
from django.template.loader import render_to_string

from models_app.models import Ref
from models_app.publish.uploads import Ingest
from models_app.repos.revisions import pr_open, revision_create
from models_app.validation.compare import pr_comparison, pr_verdict_markdown
from models_app.validation.models import TaskScore, ValidationRun, ValidationSummary
from models_app.validation.runs import run_finish
from models_app.validation.tasks import execute_run
from tests.validation.jobs_fixtures import SAMPLE_METRICS, _sample_task, finished_run, publish_bytes

pytestmark = pytest.mark.django_db


def pr_commit(repo, number: str, files: dict[str, bytes]):
    ingest = Ingest(repo)
    for path, data in files.items():
        ingest.add(path, [data])
    return revision_create(
        repo, author=repo.owner, message="PR change", add=ingest.files, branch=f"refs/pr/{number}"
    ).revision


def metrics(imdb: float, fortune: float) -> dict:
    """SAMPLE_METRICS with other fine-tuned accuracies (scratch 0.55 and 0.6 as in the sample)."""
    out = copy.deepcopy(SAMPLE_METRICS)
    out["tasks"] = [
        _sample_task("imdb", "IMDB movie reviews", 0.61, imdb, 0.55),
        _sample_task("fortune-topics", "Fortune topics", 0.5, fortune, 0.6),
    ]
    mean = round((imdb + fortune) / 2, 6)
    out["suite"] |= {"finetuned": mean, "gain": round(mean - 0.575, 6)}
    return out


@pytest.fixture
def pr(jobs_settings, tiny_repo):
    """main with one upload, and PR #1 with one commit on top of it (no runs yet)."""
    base = publish_bytes(tiny_repo, {"config.json": b'{"hidden_size": 32}'})
    ref = pr_open(tiny_repo, "main")
    head = pr_commit(tiny_repo, ref.name, {"config.json": b'{"hidden_size": 64}'})
    return tiny_repo, base, head


def render(comparison) -> str:
    return render_to_string("validation/_pr_validation.html", {"comparison": comparison})


# -- queueing and superseding ------------------------------------------------------------------


def run_hooks(hooks) -> None:
    for hook in hooks:
        hook()


def test_each_pr_head_gets_one_run_and_a_newer_commit_cancels_the_older(
    jobs_settings, tiny_repo, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as hooks:
        base = publish_bytes(tiny_repo, {"config.json": b"{}"})
    run_hooks(hooks)
    main_run = ValidationRun.objects.get(revision=base)
    ref = pr_open(tiny_repo, "main")

    with django_capture_on_commit_callbacks() as hooks:
        first = pr_commit(tiny_repo, ref.name, {"README.md": b"# one\n"})
    run_hooks(hooks)
    run_hooks(hooks)  # the same event twice still makes one run
    first_run = ValidationRun.objects.get(revision=first)
    assert first_run.status == "queued"
    main_run.refresh_from_db()
    assert main_run.status == "queued"  # the PR's first parent is main's head: its run stays

    with django_capture_on_commit_callbacks() as hooks:
        second = pr_commit(tiny_repo, ref.name, {"README.md": b"# two\n"})
    run_hooks(hooks)
    assert ValidationRun.objects.get(revision=second).status == "queued"
    first_run.refresh_from_db()
    assert (first_run.status, first_run.reason) == ("error", "superseded")
    assert second.sha[:8] in first_run.message
    # A worker that takes the cancelled run's message has nothing to claim.
    assert execute_run(first_run.pk, worker="late-worker") is None
    first_run.refresh_from_db()
    assert (first_run.status, first_run.attempts) == ("error", 0)


def test_a_superseded_running_run_never_writes_its_verdict(
    jobs_settings, tiny_repo, django_capture_on_commit_callbacks
):
    publish_bytes(tiny_repo, {"config.json": b"{}"})
    ref = pr_open(tiny_repo, "main")
    with django_capture_on_commit_callbacks() as hooks:
        first = pr_commit(tiny_repo, ref.name, {"README.md": b"# one\n"})
    run_hooks(hooks)
    running = ValidationRun.claim(ValidationRun.objects.get(revision=first).pk, "worker-a")
    with django_capture_on_commit_callbacks() as hooks:
        pr_commit(tiny_repo, ref.name, {"README.md": b"# two\n"})
    run_hooks(hooks)
    assert running.beat() is False  # the worker learns it lost the run at its next heartbeat
    assert run_finish(running, {"verdict": "passed", "metrics": SAMPLE_METRICS}) is False
    running.refresh_from_db()
    assert (running.status, running.reason, running.metrics) == ("error", "superseded", {})


def test_a_revision_another_ref_names_keeps_its_run(jobs_settings, tiny_repo, django_capture_on_commit_callbacks):
    publish_bytes(tiny_repo, {"config.json": b"{}"})
    ref = pr_open(tiny_repo, "main")
    with django_capture_on_commit_callbacks() as hooks:
        first = pr_commit(tiny_repo, ref.name, {"README.md": b"# one\n"})
    run_hooks(hooks)
    Ref.objects.create(repo=tiny_repo, name="keep", kind=Ref.Kind.TAG, revision=first)
    with django_capture_on_commit_callbacks() as hooks:
        pr_commit(tiny_repo, ref.name, {"README.md": b"# two\n"})
    run_hooks(hooks)
    assert ValidationRun.objects.get(revision=first).status == "queued"


def test_a_pr_heads_verdict_leaves_mains_summary_and_leaderboards(pr):
    repo, base, head = pr
    main_run = finished_run(base, metrics=metrics(0.80, 0.70))
    finished_run(head, metrics=metrics(0.90, 0.90))
    summary = ValidationSummary.objects.get(repo=repo)
    assert summary.run == main_run and summary.score == pytest.approx(0.75)
    assert set(TaskScore.objects.filter(repo=repo).values_list("run", flat=True)) == {main_run.pk}


# -- the comparison --------------------------------------------------------------------------------


def test_pending_while_the_head_is_validated(pr):
    _, base, head = pr
    finished_run(base)
    queued = ValidationRun.objects.create(revision=head)
    comparison = pr_comparison(head, base)
    assert comparison.state == "pending" and comparison.head_run == queued
    assert pr_verdict_markdown(comparison).startswith(f"**Validation of {head.sha[:8]}: pending.**")
    html = render(comparison)
    assert 'data-state="pending"' in html and "Validating…" in html and "Position 1 in the queue" in html


def test_passed_shows_each_tasks_change_the_mean_and_the_gain(pr):
    _, base, head = pr
    finished_run(base, metrics=metrics(0.80, 0.70))
    finished_run(head, metrics=metrics(0.82, 0.69))  # mean 0.75 -> 0.755
    c = pr_comparison(head, base)
    assert c.state == "passed" and c.reason == ""
    rows = {r.name: r for r in c.rows}
    assert (rows["imdb"].base, rows["imdb"].head, rows["imdb"].change) == (0.80, 0.82, "better")
    assert (rows["imdb"].base_text, rows["imdb"].head_text, rows["imdb"].delta_text) == ("80.0%", "82.0%", "+2.0 pts")
    assert (rows["fortune-topics"].change, rows["fortune-topics"].delta_text) == ("worse", "-1.0 pts")
    assert c.mean_delta == pytest.approx(0.005) and c.mean_delta_text == "+0.5 pts"
    assert c.gain_delta == pytest.approx(0.005) and c.gain_delta_text == "+0.5 pts"

    md = pr_verdict_markdown(c)
    assert "passed" in md and "Flagged" not in md
    assert "| IMDB movie reviews | 80.0% | 82.0% | +2.0 pts (better) |" in md
    assert "| Fortune topics | 70.0% | 69.0% | -1.0 pts (worse) |" in md
    assert "Suite mean: +0.5 pts" in md and "Transfer gain over scratch: +0.5 pts." in md

    html = render(c)
    assert "<b>Passed:</b> no regression" in html
    # The direction is in words, not colour alone.
    assert 'data-change="better">' in html and "+2.0 pts better" in html and "-1.0 pts worse" in html
    assert 'class="gain-down"' in html and 'data-field="mean">+0.5 pts better' in html


def test_flagged_when_the_mean_drops_beyond_the_threshold(pr, settings):
    _, base, head = pr
    finished_run(base, metrics=metrics(0.80, 0.70))
    finished_run(head, metrics=metrics(0.76, 0.70))  # mean drops 2 pts: at the default threshold, allowed
    assert pr_comparison(head, base).state == "passed"
    settings.HUB_PR_MAX_MEAN_DROP = 0.01
    c = pr_comparison(head, base)
    assert c.state == "flagged" and c.flagged
    assert c.reason == "the suite mean dropped by 2.0 pts, more than the 1.0 pts allowed"
    assert "**Flagged: the suite mean dropped by 2.0 pts, more than the 1.0 pts allowed.**" in pr_verdict_markdown(c)
    html = render(c)
    assert 'class="pr-banner pr-flagged" role="status"><b>Flagged:</b> the suite mean dropped' in html


def test_flagged_when_the_head_fails_to_validate(pr):
    _, base, head = pr
    finished_run(base)
    finished_run(head, status="failed", reason="load_error", metrics={})
    c = pr_comparison(head, base)
    assert c.state == "flagged" and c.rows == []
    assert c.reason == "the pull request's head failed validation (load_error): Refused."
    assert pr_verdict_markdown(c) == "**Flagged: the pull request's head failed validation (load_error): Refused.**"
    assert "<b>Flagged:</b> the pull request&#x27;s head failed validation (load_error)" in render(c)


def test_no_baseline_shows_the_heads_own_scores(pr):
    _, base, head = pr
    finished_run(head, metrics=metrics(0.82, 0.69))
    c = pr_comparison(head, base)
    assert c.state == "no-baseline" and "never validated" in c.reason
    assert [(r.name, r.head_text, r.base) for r in c.rows] == [
        ("imdb", "82.0%", None),
        ("fortune-topics", "69.0%", None),
    ]
    assert c.mean_delta is None
    md = pr_verdict_markdown(c)
    assert "| IMDB movie reviews | 82.0% |" in md and "Suite mean" not in md
    html = render(c)
    assert "<b>No baseline:</b>" in html and "Change</th>" not in html and "<b>82.0%</b>" in html


def test_a_newer_run_of_the_head_in_progress_is_pending_again(pr):
    _, base, head = pr
    finished_run(base)
    finished_run(head)
    assert pr_comparison(head, base).state == "passed"
    ValidationRun.objects.create(revision=head)  # re-run queued
    assert pr_comparison(head, base).state == "pending"


def test_to_dict_names_the_runs_by_id(pr):
    _, base, head = pr
    base_run, head_run = finished_run(base), finished_run(head)
    data = pr_comparison(head, base).to_dict()
    assert data["state"] == "passed" and data["threshold"] == 0.02
    assert data["head_run"] == {"id": head_run.pk, "status": "passed", "reason": ""}
    assert data["base_run"]["id"] == base_run.pk and data["rows"][0]["name"] == "imdb"
