"""A real Celery worker against Redis: kill -9 mid-run, a restarted worker finishes; duplicates run once.

The hub (web + workers) runs in subprocesses with its own data folder and
database (``tests.live.LiveHub``); the demo model is published the way
``make run`` does it, and the test watches the run through the public API.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.live import ROOT, LiveHub

pytestmark = [pytest.mark.worker, pytest.mark.redis, pytest.mark.live, pytest.mark.slow, pytest.mark.timeout(1500)]


def _runs(hub: LiveHub) -> list[dict]:
    with urllib.request.urlopen(f"{hub.url}/api/models/demo/tiny-bert/validation", timeout=10) as response:
        return json.load(response)["runs"]


def _wait_for(hub: LiveHub, predicate, what: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = _runs(hub)
        if runs and predicate(runs[0]):
            return runs[0]
        time.sleep(0.3)
    logs = "\n".join(f"--- {name}\n{hub.log(name)[-3000:]}" for name in ("worker-a", "worker-b"))
    raise AssertionError(f"timed out waiting for {what}; last runs: {runs}\n{logs}")


def _start_worker(hub: LiveHub, name: str, *, beat: bool) -> subprocess.Popen:
    """A worker in its own process group, so kill -9 can take the whole worker (pool child included)."""
    args = [sys.executable, "-m", "celery", "-A", "hub", "worker", "-Q", "gpu,celery", "--concurrency", "1"]
    args += ["--hostname", f"{name}-{hub.port}@%h", "--loglevel", "INFO"]
    if beat:
        args += ["--beat", "--schedule", str(hub.data_dir / "celerybeat-schedule")]
    log = open(hub.data_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(args, cwd=ROOT, env=hub.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    hub.processes[name] = proc
    return proc


def _purge_gpu_queue(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.delete("gpu", "celery", "unacked", "unacked_index")


def test_worker_killed_mid_run_is_finished_by_a_restarted_worker_once(redis_url, tmp_path):
    env = {
        "REDIS_URL": redis_url,
        "VALIDATION_BUDGET_SCALE": "0.3",  # a third of the published budget: the suite runs in about 30 s
        "VALIDATION_HEARTBEAT_SECONDS": "1",
        "VALIDATION_STALE_AFTER": "6",
        "VALIDATION_SWEEP_INTERVAL": "2",
    }
    _purge_gpu_queue(redis_url)
    with LiveHub(tmp_path / "hub", extra_env=env) as hub:
        hub.manage("publish_demo")
        assert _runs(hub)[0]["status"] == "queued"
        worker_a = _start_worker(hub, "worker-a", beat=False)
        running = _wait_for(
            hub, lambda r: r["status"] == "running" and r["stage"] in ("load", "baseline", "finetune"), "a running run"
        )
        assert running["attempts"] == 1
        os.killpg(worker_a.pid, signal.SIGKILL)  # kill -9: the worker gets no chance to clean up
        worker_a.wait(timeout=30)
        hub.processes.pop("worker-a")

        _start_worker(hub, "worker-b", beat=True)  # its beat runs the sweeper
        done = _wait_for(hub, lambda r: r["status"] not in ("queued", "running"), "a verdict", timeout=1200)
        assert done["id"] == running["id"] and done["attempts"] == 2, done
        # The demo's random weights may or may not learn at this budget; either way it is measured.
        assert (done["status"], done["reason"]) in (("passed", None), ("failed", "no_learning")), done["message"]
        assert [t["name"] for t in done["tasks"]] == [t["name"] for t in done["spec"]["tasks"]]
        assert all(0 <= t["finetuned"] <= 1 and 0 <= t["scratch"] <= 1 for t in done["tasks"])

        # The same message delivered twice more: the worker finds the run done and stops.
        hub.manage(
            "shell",
            "-c",
            f"from models_app.validation.tasks import validate_revision as t; t.delay({done['id']}); t.delay({done['id']})",
        )
        import redis

        client = redis.Redis.from_url(redis_url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (client.llen("gpu") or client.hlen("unacked")):
            time.sleep(0.3)
        assert client.llen("gpu") == 0
        again = _runs(hub)
        assert len(again) == 1 and again[0]["attempts"] == 2 and again[0]["finished"] == done["finished"]
        assert "already taken or finished" in hub.log("worker-b")
