"""A pull request's validation verdict is posted into its thread; main's stays a room message."""

from __future__ import annotations

import copy

import pytest

from discussions.models import Message
from models_app.models import Ref
from models_app.repos.rules import repo_create
from models_app.validation.models import ValidationRun
from models_app.validation.runs import announce_finished
from tests.discussions.test_threads import commit
from tests.validation.jobs_fixtures import SAMPLE_METRICS, finished_run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pr(owner, write_client, other_client, no_auto_queue):
    """alice's tiny with a validated main, and bob's PR #1 (one commit, not validated yet)."""
    repo = repo_create(owner, "tiny")
    assert commit(write_client, {"config.json": b"{}"}).status_code == 200
    main = Ref.objects.get(repo=repo, kind=Ref.Kind.BRANCH, name="main").revision
    finished_run(main)
    opened = commit(other_client, {"README.md": b"# better card\n"}, query="?create_pr=1", summary="Card")
    assert opened.status_code == 200, opened.json()
    head = Ref.objects.get(repo=repo, kind=Ref.Kind.PR, name="1").revision
    return repo, head


def room_messages(anon_client) -> list[dict]:
    return anon_client.get("/api/models/alice/tiny/messages?limit=200").json()["messages"]


def test_a_pr_heads_verdict_goes_into_its_thread_once(pr, anon_client):
    repo, head = pr
    before = len(room_messages(anon_client))
    finished_run(head)
    new = room_messages(anon_client)[before:]
    assert len(new) == 1, [m["body"] for m in new]
    verdict = new[0]
    assert verdict["kind"] == "system" and verdict["author"] is None
    assert verdict["thread"] == {"num": 1, "title": "Card", "pull_request": True}
    assert f"Validation of {head.sha[:8]} passed" in verdict["body"] and "no regression" in verdict["body"]
    assert "/alice/tiny/discussions/1" in verdict["body"]
    # the HF API lists it among the thread's events, after the commit
    events = anon_client.get("/api/models/alice/tiny/discussions/1").json()["events"]
    assert [e["type"] for e in events] == ["comment", "commit", "comment"]
    assert "no regression" in events[-1]["data"]["latest"]["raw"]


def test_a_drop_beyond_the_threshold_is_flagged_in_the_thread(pr, anon_client, settings):
    repo, head = pr
    settings.HUB_PR_MAX_MEAN_DROP = 0.01
    worse = copy.deepcopy(SAMPLE_METRICS)
    worse["suite"]["finetuned"] = SAMPLE_METRICS["suite"]["finetuned"] - 0.2
    finished_run(head, metrics=worse)
    verdict = Message.objects.filter(thread__num=1, kind=Message.Kind.SYSTEM).get()
    assert verdict.body.startswith("**Flagged: the suite mean dropped by 20.0 pts")


def test_a_head_that_fails_to_load_is_flagged(pr):
    repo, head = pr
    finished_run(head, status="failed", reason="load", metrics={})
    verdict = Message.objects.filter(thread__num=1, kind=Message.Kind.SYSTEM).get()
    assert "**Flagged: the pull request's head failed validation (load)" in verdict.body


def test_a_superseded_run_says_nothing(pr, anon_client):
    repo, head = pr
    run = ValidationRun.objects.create(revision=head)
    before = len(room_messages(anon_client))
    assert run.cancel("Superseded by abcdef12, a newer commit to the pull request.", reason="superseded")
    announce_finished(run)
    assert room_messages(anon_client)[before:] == []


def test_mains_verdict_stays_a_room_message(pr, anon_client):
    repo, head = pr
    main = Ref.objects.get(repo=repo, kind=Ref.Kind.BRANCH, name="main").revision
    before = len(room_messages(anon_client))
    finished_run(main)
    new = room_messages(anon_client)[before:]
    assert len(new) == 1 and new[0]["thread"] is None
    assert new[0]["body"].startswith(f"Validation of {main.sha[:8]}: passed")


def test_a_head_validated_before_its_target_waits_for_the_targets_verdict(
    owner, write_client, other_client, anon_client, no_auto_queue
):
    repo = repo_create(owner, "tiny")
    commit(write_client, {"config.json": b"{}"})
    main = Ref.objects.get(repo=repo, kind=Ref.Kind.BRANCH, name="main").revision
    ValidationRun.objects.create(revision=main)  # queued: main is still being validated
    commit(other_client, {"README.md": b"# card\n"}, query="?create_pr=1", summary="Card")
    head = Ref.objects.get(repo=repo, kind=Ref.Kind.PR, name="1").revision
    finished_run(head)
    assert not Message.objects.filter(thread__num=1, kind=Message.Kind.SYSTEM).exists()
    ValidationRun.objects.filter(revision=main).delete()
    finished_run(main)
    verdict = Message.objects.filter(thread__num=1, kind=Message.Kind.SYSTEM).get()
    assert "no regression" in verdict.body and verdict.data == {"verdict": head.sha}
    finished_run(main)  # main validated again: the PR's verdict is not repeated
    assert Message.objects.filter(thread__num=1, kind=Message.Kind.SYSTEM).count() == 1
