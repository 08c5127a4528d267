"""Celery tasks: ``validate_revision`` (queue ``gpu``) and the periodic sweeper.

The tasks take ids and only drive the state machine in ``models.py``; the work
is ``execute_run``, a plain function tests call without a broker. It is safe
to deliver a message twice: the claim lets one delivery run and the other stop.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init
from django.conf import settings
from django.db import close_old_connections, connection

from models_app.validation import runs, snapshots
from models_app.validation.models import ValidationRun

log = logging.getLogger(__name__)

LIVE_INTERVAL = 0.25  # at most 4 progress events a second reach the page


class RunLost(Exception):
    """The sweeper gave this attempt away (our heartbeat went stale); stop working on it."""


class ProgressPump(threading.Thread):
    """Writes heartbeats and progress for one running attempt from a single thread.

    ``push`` is called for every event the runner reports (from any thread) and
    only stores it; this thread saves the latest one and publishes it at most
    every ``LIVE_INTERVAL`` seconds, and beats every ``VALIDATION_HEARTBEAT_SECONDS``
    even when the runner is silent (loading a big model), so a live worker is
    never mistaken for a dead one.
    """

    def __init__(self, run: ValidationRun):
        super().__init__(name=f"validation-{run.pk}-pump", daemon=True)
        self.run_obj = run
        self.lost = False
        self._pending: dict | None = None
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._beat_every = settings.VALIDATION_HEARTBEAT_SECONDS

    def push(self, event: dict) -> None:
        if self.lost:
            raise RunLost(f"run {self.run_obj.pk} was taken over after its heartbeat went stale")
        with self._lock:
            self._pending = event

    def run(self) -> None:
        last_beat = 0.0
        try:
            while True:
                stopping = self._halt.wait(LIVE_INTERVAL)
                last_beat = self._flush(last_beat)
                if stopping or self.lost:
                    return
        finally:
            connection.close()  # this thread's own connection

    def _flush(self, last_beat: float) -> float:
        import time

        with self._lock:
            event, self._pending = self._pending, None
        now = time.monotonic()
        if event is None and now - last_beat < self._beat_every:
            return last_beat
        try:
            if event is None:
                owned = self.run_obj.beat()
            else:
                progress = {k: event.get(k) for k in ("step", "total", "loss", "task", "task_index", "tasks")}
                owned = self.run_obj.beat(stage=event.get("stage") or self.run_obj.stage, progress=progress)
                runs.publish_progress(self.run_obj)
        except Exception:  # noqa: BLE001 - a database hiccup must not kill the run; the next tick retries
            log.warning("heartbeat of run %s failed", self.run_obj.pk, exc_info=True)
            return last_beat
        if not owned:
            self.lost = True
        return now

    def stop(self) -> None:
        self._halt.set()
        if self.ident is not None:  # started
            self.join(timeout=30)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def card_meta_for(run: ValidationRun) -> dict:
    """The card metadata the reference suite is chosen from (repo fields fill what the card lacks)."""
    repo = run.revision.repo
    meta = dict(repo.card_meta or {})
    for key in ("pipeline_tag", "library_name"):
        if not meta.get(key) and getattr(repo, key, ""):
            meta[key] = getattr(repo, key)
    return meta


def execute_run(run_id: int, *, worker: str | None = None) -> ValidationRun | None:
    """Claim run ``run_id`` and validate it. None when this call did not get the run (taken or done)."""
    from models_app.validation.runner import run_validation

    run = ValidationRun.claim(run_id, worker or worker_name())
    if run is None:
        log.info("validation run %s: already taken or finished; nothing to do", run_id)
        return None
    runs.publish_progress(run)
    pump = ProgressPump(run)
    snapshot = None
    try:
        pump.start()
        snapshot = snapshots.materialize(run.revision)
        result = run_validation(
            snapshot,
            card_meta=card_meta_for(run),
            on_progress=pump.push,
            # The runner stops its child a little before Celery's soft limit would.
            timeout_s=max(10.0, settings.VALIDATION_SOFT_TIME_LIMIT - 20),
            memory_limit_bytes=settings.VALIDATION_MEMORY_LIMIT or None,
            budget_scale=settings.VALIDATION_BUDGET_SCALE,
            scratch_cache=runs.ScratchCache(),
        )
        pump.stop()
        if pump.lost:
            raise RunLost(f"run {run_id} was taken over while it ran")
        runs.run_finish(run, result)
    except RunLost:
        # Whoever holds the run now finishes it; this attempt's result is not counted.
        log.warning("validation run %s: lost to the sweeper, result dropped", run_id)
    except SoftTimeLimitExceeded:
        runs.run_fail(
            run, "timeout", f"Stopped after the {settings.VALIDATION_SOFT_TIME_LIMIT} s time limit.", status="error"
        )
    except Exception as exc:  # noqa: BLE001 - every failure becomes a typed verdict, never a stuck run
        log.exception("validation run %s failed", run_id)
        runs.run_fail(
            run,
            "internal_error",
            f"The hub could not finish this validation: {type(exc).__name__}: {exc}"[:500],
            log_tail=traceback.format_exc()[-4000:],
        )
    finally:
        pump.stop()
        snapshots.discard(snapshot)
    run.refresh_from_db()
    return run


@shared_task(
    name=runs.VALIDATE_TASK,
    soft_time_limit=settings.VALIDATION_SOFT_TIME_LIMIT,
    time_limit=settings.VALIDATION_HARD_TIME_LIMIT,
    ignore_result=True,
)
def validate_revision(run_id: int) -> None:
    close_old_connections()
    try:
        execute_run(run_id)
    finally:
        close_old_connections()


# Named outside ``models_app.validation.tasks.*`` so the route sends it to the
# default queue: a sweep must not wait behind a 30-minute job on the gpu queue.
@shared_task(name="validation.sweep_stale_runs", ignore_result=True, soft_time_limit=120, time_limit=180)
def sweep_stale_runs() -> dict:
    return runs.sweep_stale_runs()


@worker_init.connect
def warm_up_worker(**kwargs) -> None:
    """Import transformers' architecture tables once, in the worker's main process before the pool forks.

    Choosing a reference task reads them, and importing them takes about 2 s:
    without this, the first job of every fresh worker child pays it in its
    upload-to-verdict time. The fine-tune itself runs in a spawned child, so
    nothing here is shared with it.
    """
    from models_app.validation.reference import _auto_mappings

    _auto_mappings()
