"""The one-machine supervisor (hub/supervisor.py) with small real child processes.

Each child is a shell that starts a grandchild in its own process group, the
shape of a Celery worker and its pool; the test reads both pids from a file.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import psutil
import pytest

from hub.supervisor import Child, Supervisor, restart_delay


def alive(proc: psutil.Process) -> bool:
    # A zombie has exited; only whoever adopted it has yet to reap it (PID 1 in some containers never does).
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def until(condition, what: str, supervisor: Supervisor | None = None, timeout: float = 30):
    """Wait for ``condition()`` to be true (driving ``supervisor`` meanwhile); returns its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if supervisor is not None:
            supervisor.check()
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def family(pidfile: Path, *, ignore_term: bool = False) -> Child:
    """A child that writes "<its pid> <grandchild pid>" to ``pidfile`` then waits on the grandchild."""
    trap = "trap '' TERM; " if ignore_term else ""  # an ignored signal stays ignored across exec
    script = f"{trap}sleep 300 & echo $$ $! > {pidfile}.tmp && mv {pidfile}.tmp {pidfile}; wait"
    return Child("family", ["sh", "-c", script])


def pids(pidfile: Path) -> tuple[psutil.Process, psutil.Process] | None:
    if not pidfile.exists():
        return None
    leader, grandchild = (psutil.Process(int(pid)) for pid in pidfile.read_text().split())
    return leader, grandchild


def test_restart_delay_doubles_up_to_the_cap():
    assert [restart_delay(n, first=1, cap=30) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


@pytest.mark.parametrize("ignore_term", [False, True], ids=["leftover-stops-on-sigterm", "leftover-needs-sigkill"])
def test_a_crashed_child_is_restarted_and_what_it_left_is_stopped(tmp_path, ignore_term):
    pidfile = tmp_path / "pids"
    supervisor = Supervisor([family(pidfile, ignore_term=ignore_term)], first_delay=0.1, grace=1)
    supervisor.start()
    try:
        leader, grandchild = until(lambda: pids(pidfile), "the first family")
        pidfile.unlink()
        leader.kill()  # SIGKILL: the grandchild is orphaned, as a Celery pool process was
        new_leader, new_grandchild = until(lambda: pids(pidfile), "the restarted family", supervisor)
        assert new_leader.pid != leader.pid and alive(new_leader) and alive(new_grandchild)
        assert not alive(grandchild)  # stopped before the new child started
        assert supervisor.children[0].crashes == 1
    finally:
        supervisor.stop()
    assert not alive(new_leader) and not alive(new_grandchild)


@pytest.mark.parametrize(("stable_after", "crashes"), [(3600, 3), (0, 1)])
def test_crashes_in_a_row_count_until_a_child_stays_up(tmp_path, stable_after, crashes):
    # A child that exits at once crashes three times; with stable_after=0 every run
    # counts as a healthy one, so each crash starts the backoff from the first delay.
    starts = tmp_path / "starts"
    child = Child("crasher", [sys.executable, "-c", f"open({str(starts)!r}, 'a').write('x'); raise SystemExit(3)"])
    supervisor = Supervisor([child], first_delay=0.01, max_delay=0.05, stable_after=stable_after)
    supervisor.start()
    try:
        until(
            lambda: starts.exists() and len(starts.read_text()) == 3 and child.restart_at, "three crashes", supervisor
        )
    finally:
        supervisor.stop()
    assert child.crashes == crashes


def test_stop_sends_sigkill_to_a_group_that_ignores_sigterm(tmp_path, caplog):
    pidfile = tmp_path / "pids"
    supervisor = Supervisor([family(pidfile, ignore_term=True)], grace=1)
    supervisor.start()
    leader, grandchild = until(lambda: pids(pidfile), "the family")
    supervisor.stop()
    assert not alive(leader) and not alive(grandchild)
    assert "sending SIGKILL" in caplog.text


def test_run_returns_after_request_stop_with_every_process_gone(tmp_path):
    # What runhub's signal handlers do: only set the flag; run() then stops the children.
    pidfile = tmp_path / "pids"
    supervisor = Supervisor([family(pidfile)], grace=5)
    supervisor.start()
    leader, grandchild = until(lambda: pids(pidfile), "the family")
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: supervisor.request_stop())
    try:
        os.kill(os.getpid(), signal.SIGUSR1)
        supervisor.run()
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert not alive(leader) and not alive(grandchild)
