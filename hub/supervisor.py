"""Keep the hub's child processes running on one machine (what ``runhub`` uses).

Each child (the web server, the Celery worker) starts in a session of its own,
so its process group holds it and everything it forks (Celery's pool and beat
processes). A child that exits without being asked to is restarted after a
delay that doubles with each crash in a row, up to a cap, and starts again
from the first delay once a child has stayed up for a while. Whatever the
dead child left in its group is stopped before the new one starts.

Stopping follows systemd's ``KillMode=mixed``: SIGTERM to each child itself,
so Celery can finish its warm shutdown (its pool processes reset SIGTERM to
the default action, so a group-wide SIGTERM would kill a task mid-step), then
SIGTERM to whatever remains of the group once the child is gone, and SIGKILL
to the whole group after the grace period.

A child's own session also means a terminal's Ctrl-C reaches only the
supervisor, which then stops the children in this order; and that killing the
supervisor itself with SIGKILL leaves its children running (nothing here can
outlive it to clean up: use SIGTERM).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field

import psutil

log = logging.getLogger(__name__)

FIRST_DELAY = 1.0  # seconds before the first restart of a crashed child
MAX_DELAY = 30.0  # the cap of the doubling delays
STABLE_AFTER = 60.0  # a child up this long counts as healthy: its next crash starts from FIRST_DELAY
GRACE = 15.0  # seconds between SIGTERM and SIGKILL
POLL = 0.2


def restart_delay(crashes_in_a_row: int, first: float = FIRST_DELAY, cap: float = MAX_DELAY) -> float:
    """Seconds to wait before restarting a child that has now crashed ``crashes_in_a_row`` times (>= 1) in a row."""
    return min(cap, first * 2 ** (crashes_in_a_row - 1))


def group_members(pgid: int) -> list[psutil.Process]:
    """The live processes of process group ``pgid``.

    Zombies do not count: an orphaned grandchild that has exited waits for
    whoever adopted it (PID 1, which in some containers never reaps) and holds
    nothing but its process table entry.
    """
    members = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                members.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue  # gone while we looked
    return members


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass  # the group is already empty


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


@dataclass
class Child:
    """One supervised command. ``env`` None means this process's environment."""

    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    # A one-shot job (publishing the zoo): it runs beside the servers and is not restarted when it ends.
    once: bool = False
    process: subprocess.Popen | None = field(default=None, repr=False)
    started: float = 0.0
    crashes: int = 0  # crashes in a row, each within STABLE_AFTER of its start
    restart_at: float | None = None  # set while the child is down and waiting for its restart
    kill_at: float = 0.0  # when what the crashed child left behind gets SIGKILL

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None


class Supervisor:
    def __init__(
        self,
        children: list[Child],
        *,
        first_delay: float = FIRST_DELAY,
        max_delay: float = MAX_DELAY,
        stable_after: float = STABLE_AFTER,
        grace: float = GRACE,
    ):
        self.children = children
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.stable_after = stable_after
        self.grace = grace
        self._stop = threading.Event()
        self._stopped = False

    def start(self) -> None:
        for child in self.children:
            self._spawn(child)

    def add(self, child: Child) -> None:
        """Start one more child (a job that begins once the servers are up)."""
        self.children.append(child)
        self._spawn(child)

    def request_stop(self) -> None:
        """Make ``run`` return. Only sets a flag, so a signal handler may call it."""
        self._stop.set()

    def run(self) -> None:
        """Watch the children, restarting any that exit, until ``request_stop``; then stop them all."""
        try:
            while not self._stop.is_set():
                self.check()
                self._stop.wait(POLL)
        finally:
            self.stop()

    def check(self) -> None:
        """One round: notice exits, clean up after them, restart children whose delay has passed."""
        if self._stop.is_set():
            return  # a process manager may signal the children too: their exits are no crash
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is None:
                if child.process is None or child.process.poll() is None:
                    continue
                if child.once:
                    self._finished(child)
                    continue
                self._crashed(child, now)
            members = group_members(child.pid) if child.process is not None else []
            if members and now >= child.kill_at:
                log.warning("%s: %d leftover process(es) ignored SIGTERM; sending SIGKILL", child.name, len(members))
                _signal_group(child.pid, signal.SIGKILL)
                child.kill_at = now + self.grace  # again (and this warning) only after another grace period
            if not members and now >= child.restart_at:
                log.info("%s: restarting", child.name)
                self._spawn(child)

    def stop(self) -> None:
        """Stop every child and everything in its group; returns when none is left. Idempotent."""
        self._stop.set()
        if self._stopped:
            return
        self._stopped = True
        log.info("stopping %s", ", ".join(child.name for child in self.children if child.process is not None))
        for child in self.children:
            if child.process is None:
                continue
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
            else:
                _signal_group(child.pid, signal.SIGTERM)  # leftovers of a crash not cleaned up yet
        deadline = time.monotonic() + self.grace
        left = self._wait_groups(deadline, sigterm_leftovers=True)
        if left:
            for child in left:
                log.warning("%s: still running %.0f s after SIGTERM; sending SIGKILL", child.name, self.grace)
                _signal_group(child.pid, signal.SIGKILL)
            left = self._wait_groups(time.monotonic() + 10, sigterm_leftovers=False)
            for child in left:
                log.error("%s: processes of group %d survived SIGKILL", child.name, child.pid)

    def _wait_groups(self, deadline: float, *, sigterm_leftovers: bool) -> list[Child]:
        termed: set[str] = set()
        while True:
            left = []
            for child in self.children:
                if child.process is None:
                    continue
                leader_running = child.process.poll() is None  # also reaps it
                if not leader_running and group_members(child.pid):
                    if sigterm_leftovers and child.name not in termed:
                        # The child is gone but not all it started (KillMode=mixed's second step).
                        _signal_group(child.pid, signal.SIGTERM)
                        termed.add(child.name)
                    left.append(child)
                elif leader_running:
                    left.append(child)
            if not left or time.monotonic() >= deadline:
                return left
            time.sleep(0.1)

    def _spawn(self, child: Child) -> None:
        child.restart_at = None
        try:
            # start_new_session: the child leads a new process group (pgid == its pid)
            # that its own children join, so the group can be signalled as a whole.
            child.process = subprocess.Popen(child.argv, env=child.env, start_new_session=True)
        except OSError:
            log.exception("%s: could not start", child.name)
            child.process = None
            child.crashes += 1
            child.restart_at = time.monotonic() + restart_delay(child.crashes, self.first_delay, self.max_delay)
            return
        child.started = time.monotonic()
        log.info("%s: started, pid %d", child.name, child.process.pid)

    def _finished(self, child: Child) -> None:
        code = child.process.returncode
        level = logging.INFO if code == 0 else logging.ERROR
        log.log(level, "%s (pid %d) %s; it runs once and is not restarted", child.name, child.pid, describe_exit(code))
        _signal_group(child.pid, signal.SIGTERM)  # anything it left behind
        child.process = None

    def _crashed(self, child: Child, now: float) -> None:
        ran = now - child.started
        if ran >= self.stable_after:
            child.crashes = 0
        child.crashes += 1
        delay = restart_delay(child.crashes, self.first_delay, self.max_delay)
        log.error(
            "%s (pid %d) %s after %.1f s; restarting in %.1f s (crash %d in a row)",
            child.name,
            child.pid,
            describe_exit(child.process.returncode),
            ran,
            delay,
            child.crashes,
        )
        # Celery's pool and beat processes outlive a killed worker: stop them before the new one starts.
        _signal_group(child.pid, signal.SIGTERM)
        child.restart_at = now + delay
        child.kill_at = now + self.grace
