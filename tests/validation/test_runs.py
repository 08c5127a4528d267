"""The run state machine: claim once, heartbeats, verdicts, re-runs, the sweeper, the summary."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from hub.api import ApiError
from models_app.validation.models import MAX_ATTEMPTS, TaskScore, ValidationRun, ValidationSummary
from models_app.validation.runs import run_fail, run_rerun, sweep_stale_runs
from tests.validation.jobs_fixtures import finished_run, publish_bytes

pytestmark = pytest.mark.django_db


def _revision(tiny_repo, content=b"{}"):
    return publish_bytes(tiny_repo, {"config.json": content})


def test_a_new_main_revision_gets_one_queued_run(jobs_settings, tiny_repo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as upload_hooks:
        revision = _revision(tiny_repo)
    assert not ValidationRun.objects.exists()  # nothing before the upload commits
    with django_capture_on_commit_callbacks() as queue_hooks:
        for hook in upload_hooks:
            hook()
        for hook in upload_hooks:  # the same event twice still makes one run
            hook()
    run = ValidationRun.objects.get()
    assert (run.revision, run.status, run.attempts, run.requested_by) == (revision, "queued", 0, tiny_repo.owner)
    # One message to the gpu queue, sent after commit (other parts, like the room, add hooks of their own).
    assert [h.__qualname__ for h in queue_hooks].count("enqueue_on_commit.<locals>.<lambda>") == 1


def test_claim_is_exclusive_and_a_second_delivery_stops(jobs_settings, tiny_repo):
    run = ValidationRun.objects.create(revision=_revision(tiny_repo))
    first = ValidationRun.claim(run.pk, "worker-a")
    assert first is not None and first.status == "running" and first.attempts == 1
    assert ValidationRun.claim(run.pk, "worker-b") is None
    first.finish(status="passed")
    assert ValidationRun.claim(run.pk, "worker-b") is None
    run.refresh_from_db()
    assert (run.status, run.attempts, run.worker) == ("passed", 1, "worker-a")


@pytest.mark.django_db(transaction=True)
def test_claim_race_between_threads_has_one_winner(jobs_settings, tiny_repo, no_auto_queue):
    run = ValidationRun.objects.create(revision=_revision(tiny_repo))
    winners, barrier = [], threading.Barrier(6)

    def worker(n: int) -> None:
        try:
            barrier.wait()
            if ValidationRun.claim(run.pk, f"worker-{n}") is not None:
                winners.append(n)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.refresh_from_db()
    assert len(winners) == 1
    assert (run.status, run.attempts, run.worker) == ("running", 1, f"worker-{winners[0]}")


def test_queue_position_counts_the_runs_ahead(jobs_settings, tiny_repo):
    revision = _revision(tiny_repo)
    runs = [ValidationRun.objects.create(revision=revision) for _ in range(3)]
    assert [r.queue_position() for r in runs] == [1, 2, 3]
    ValidationRun.claim(runs[0].pk, "w")
    for r in runs:
        r.refresh_from_db()
    assert [r.queue_position() for r in runs] == [None, 1, 2]


def test_stale_run_is_requeued_then_a_late_result_of_the_dead_attempt_is_dropped(
    jobs_settings, tiny_repo, django_capture_on_commit_callbacks
):
    run = ValidationRun.objects.create(revision=_revision(tiny_repo))
    dead = ValidationRun.claim(run.pk, "worker-dead")
    ValidationRun.objects.filter(pk=run.pk).update(heartbeat=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks() as hooks:
        assert sweep_stale_runs() == {"requeued": 1, "failed": 0, "resent": 0}
    assert [h.__qualname__ for h in hooks] == ["enqueue_on_commit.<locals>.<lambda>"]  # one new message
    assert sweep_stale_runs()["requeued"] == 0  # never counted twice
    alive = ValidationRun.claim(run.pk, "worker-new")
    assert alive.attempts == 2
    assert dead.finish(status="passed") is False  # the dead attempt's verdict does not count
    assert alive.beat(stage="finetune", progress={"step": 3, "total": 10, "loss": 0.5})
    assert alive.finish(status="failed", reason="no_learning", message="flat")
    run.refresh_from_db()
    assert (run.status, run.reason, run.attempts, run.worker) == ("failed", "no_learning", 2, "worker-new")


def test_after_the_last_attempt_a_stale_run_ends_as_error(jobs_settings, tiny_repo):
    revision = _revision(tiny_repo)
    run = ValidationRun.objects.create(revision=revision, attempts=MAX_ATTEMPTS - 1)
    assert ValidationRun.claim(run.pk, "worker-x").attempts == MAX_ATTEMPTS
    ValidationRun.objects.filter(pk=run.pk).update(heartbeat=timezone.now() - timedelta(hours=1))
    assert ValidationRun.claim(run.pk, "worker-y") is None  # no fourth attempt
    assert sweep_stale_runs() == {"requeued": 0, "failed": 1, "resent": 0}
    assert sweep_stale_runs() == {"requeued": 0, "failed": 0, "resent": 0}
    run.refresh_from_db()
    assert (run.status, run.reason, run.attempts) == ("error", "internal_error", MAX_ATTEMPTS)
    assert "all 3 attempts" in run.message and run.finished is not None
    summary = ValidationSummary.objects.get(repo=tiny_repo)
    assert (summary.verdict, summary.reason, summary.score) == ("error", "internal_error", None)


def test_a_queued_run_whose_message_was_lost_is_sent_again(
    jobs_settings, tiny_repo, django_capture_on_commit_callbacks
):
    run = ValidationRun.objects.create(revision=_revision(tiny_repo), enqueued=timezone.now() - timedelta(days=1))
    with django_capture_on_commit_callbacks() as hooks:
        assert sweep_stale_runs()["resent"] == 1
    assert len(hooks) == 1
    assert sweep_stale_runs()["resent"] == 0
    run.refresh_from_db()
    assert run.status == "queued"


def test_finish_updates_the_summary_of_main_only(jobs_settings, tiny_repo):
    first = _revision(tiny_repo, b'{"a": 1}')
    run = finished_run(first)
    summary = ValidationSummary.objects.get(repo=tiny_repo)
    assert (summary.run, summary.verdict, summary.suite, summary.score, summary.gain) == (
        run,
        "passed",
        "text",
        0.74,
        0.165,
    )
    assert sorted(TaskScore.objects.filter(repo=tiny_repo).values_list("task", "finetuned", "scratch")) == [
        ("fortune-topics", 0.7, 0.6),
        ("imdb", 0.78, 0.55),
    ]
    _revision(tiny_repo, b'{"a": 2}')  # main moves on
    old = ValidationRun.objects.create(revision=first)
    old = ValidationRun.claim(old.pk, "w")
    assert run_fail(old, "internal_error", "boom")
    assert ValidationSummary.objects.get(repo=tiny_repo).run == run  # a result for an old revision leaves main's alone


def test_rerun_by_owner_or_staff_only_and_not_while_active(
    jobs_settings, tiny_repo, other_user, django_capture_on_commit_callbacks
):
    revision = _revision(tiny_repo)
    finished_run(revision, status="failed", reason="no_learning")
    with pytest.raises(ApiError) as refused:
        run_rerun(tiny_repo, other_user)
    assert refused.value.status_code == 403
    with django_capture_on_commit_callbacks() as hooks:
        run = run_rerun(tiny_repo, tiny_repo.owner)
    assert (run.status, run.revision, run.requested_by) == ("queued", revision, tiny_repo.owner)
    assert [h.__qualname__ for h in hooks].count("enqueue_on_commit.<locals>.<lambda>") == 1
    with pytest.raises(ApiError) as busy:
        run_rerun(tiny_repo, tiny_repo.owner)
    assert busy.value.status_code == 409
    other_user.is_staff = True
    ValidationRun.claim(run.pk, "w").finish(status="passed")
    assert run_rerun(tiny_repo, other_user).status == "queued"
