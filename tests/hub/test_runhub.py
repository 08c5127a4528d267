"""``manage.py runhub`` as ``make run`` starts it: a crashed child comes back, a stop leaves nothing behind.

Each test runs its own runhub (web server and Celery worker with beat) on a
free loopback port with its own data folder, and finds the children with
psutil as an operator would with ``ps``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest

from tests.live import ROOT, LiveHub

pytestmark = [pytest.mark.live, pytest.mark.slow, pytest.mark.worker]

# Loaded machines start Django, uvicorn and Celery slowly; these are deadlines, not expectations.
START_TIMEOUT = 180


class RunHub:
    def __init__(self, hub: LiveHub, *, zoo: bool = False):
        self.hub = hub
        log = open(hub.data_dir / "runhub.log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "runhub",
                "--no-demo",
                *([] if zoo else ["--no-zoo"]),
                "--host",
                "127.0.0.1",
                "--port",
                str(hub.port),
            ],
            cwd=ROOT,
            env=hub.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.proc = psutil.Process(self.process.pid)
        self.seen: set[psutil.Process] = set()  # every process the test met, killed at teardown if still there

    def child(self, program: str) -> psutil.Process | None:
        """runhub's child running ``program`` (uvicorn or celery), if there is one now."""
        for child in self.proc.children():
            try:
                if program in child.cmdline() and alive(child):
                    return child
            except psutil.NoSuchProcess:
                continue
        return None

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.hub.url + "/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def worker_ready(self) -> psutil.Process | None:
        """The Celery worker once its pool process and beat have started (it forks both at boot)."""
        worker = self.child("celery")
        return worker if worker is not None and len(worker.children()) >= 2 else None

    def until(self, condition, what: str):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"runhub exited ({self.process.returncode}):\n{self.hub.log('runhub')[-4000:]}")
            value = condition()
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}:\n{self.hub.log('runhub')[-4000:]}")

    def tree(self) -> list[psutil.Process]:
        return [self.proc, *self.proc.children(recursive=True)]


def alive(proc: psutil.Process) -> bool:
    # A zombie has exited; only whoever adopted it has yet to reap it (PID 1 in some containers never does).
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def runhub(request, tmp_path):
    zoo = getattr(request, "param", None)  # HUB_ZOO for this runhub; None: started with --no-zoo
    hub = LiveHub(tmp_path / "hub", extra_env={"HUB_ZOO": zoo, "VALIDATION_BUDGET_SCALE": "0.3"} if zoo else None)
    hub.data_dir.mkdir(parents=True)
    running = RunHub(hub, zoo=bool(zoo))
    try:
        running.until(running.healthy, "/healthz")
        yield running
    finally:
        # Whatever a failed test left: stop runhub as an operator would, then make sure of it.
        if running.process.poll() is None:
            running.seen.update(running.tree())
            running.process.send_signal(signal.SIGTERM)
            try:
                running.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                running.process.kill()
        for proc in running.seen:
            if alive(proc):
                proc.kill()
        hub.stop()  # drops its PostgreSQL database in that pass


def test_a_killed_web_server_or_worker_is_restarted(runhub):
    web = runhub.child("uvicorn")
    worker = runhub.until(runhub.worker_ready, "the Celery worker's pool and beat")
    old_worker_tree = [worker, *worker.children(recursive=True)]
    runhub.seen.update([web, *old_worker_tree])

    web.kill()
    web.wait(timeout=30)
    runhub.until(runhub.healthy, "/healthz from a restarted web server")
    new_web = runhub.child("uvicorn")
    assert new_web is not None and new_web.pid != web.pid

    worker.kill()  # SIGKILL: Celery gets no chance to stop its pool or beat

    def restarted_worker():
        # Right after kill() the old worker can still look alive for a moment (the signal is
        # delivered asynchronously): only a worker with another pid is the restarted one.
        ready = runhub.worker_ready()
        return ready if ready is not None and ready.pid != worker.pid else None

    new_worker = runhub.until(restarted_worker, "a new Celery worker")
    runhub.seen.update([new_worker, *new_worker.children(recursive=True)])
    # The old worker's pool and beat were stopped before the new one started.
    assert [p.pid for p in old_worker_tree if alive(p)] == []
    assert runhub.healthy()


def test_sigterm_stops_every_process_of_the_tree(runhub):
    runhub.until(runhub.worker_ready, "the Celery worker's pool and beat")
    tree = runhub.tree()
    runhub.seen.update(tree)
    assert len(tree) >= 5  # runhub, uvicorn, the Celery worker, its pool process and beat

    runhub.process.send_signal(signal.SIGTERM)
    assert runhub.process.wait(timeout=120) == 0
    assert [p.pid for p in tree if alive(p)] == []


def _json(url: str):
    import json

    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


@pytest.mark.timeout(900)
@pytest.mark.parametrize("runhub", ["mnist-resnet-0"], indirect=True)
def test_the_zoo_fills_in_behind_a_running_hub_and_is_validated(runhub):
    # The first page does not wait for the zoo: /healthz answered before anything was published.
    url = runhub.hub.url
    runhub.until(lambda: _json(f"{url}/api/models?author=zoo"), "zoo/mnist-resnet-0 to be published")

    def verdict():
        runs = _json(f"{url}/api/models/zoo/mnist-resnet-0/validation")["runs"]
        return runs[0] if runs and runs[0]["status"] not in ("queued", "running") else None

    deadline = time.monotonic() + 600
    while (done := verdict()) is None and time.monotonic() < deadline:
        time.sleep(1)
    assert done is not None, runhub.hub.log("runhub")[-4000:]
    assert done["status"] == "passed", done["message"]
    assert [t["name"] for t in done["tasks"]] == ["sklearn-digits", "mnist", "fashion-mnist"]
    card = _json(f"{url}/api/models/zoo/mnist-resnet-0")["cardData"]
    assert card["license"] and "zoo" in card["tags"]
    # The publishing job ran once and was not restarted; the servers are still up.
    assert runhub.child("publish_zoo") is None
    assert "runs once and is not restarted" in runhub.hub.log("runhub")
    assert runhub.healthy()
