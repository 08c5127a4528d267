"""``manage.py probe_worker live|ready NAME``: the Celery worker's liveness and readiness probes.

A worker serves no HTTP, so its probes are a command (systemd's
``ExecCondition``/a watchdog timer, Kubernetes' ``exec`` probe): exit 0 when
the check passes, 1 with a one-line reason when it does not.

- ``live``: the worker named NAME (its ``--hostname``, e.g. ``gpu1@host``)
  answers a control ping through the broker. A worker whose main process hangs
  does not answer; a busy one does (the job runs in its pool child).
- ``ready``: live, consuming ``--queue``, and from here the database and the
  broker answer (what a job needs).

Needs the Redis broker (``REDIS_URL``): the one-machine filesystem broker has no
control channel; there ``runhub`` supervises its worker itself.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hub.celery import app
from hub.health import check_broker, check_database


def ping(hostname: str, timeout: float) -> bool:
    replies = app.control.ping(destination=[hostname], timeout=timeout)
    return any(hostname in reply for reply in replies or [])


def consumed_queues(hostname: str, timeout: float) -> set[str]:
    answer = app.control.inspect(destination=[hostname], timeout=timeout).active_queues() or {}
    return {queue["name"] for queue in answer.get(hostname, [])}


class Command(BaseCommand):
    help = "Exit 0 when the named Celery worker is live (or ready), else 1 with the reason."

    def add_arguments(self, parser):
        parser.add_argument("check", choices=["live", "ready"])
        parser.add_argument("hostname", help="the worker's --hostname, e.g. gpu1@%%h expanded: gpu1@myhost")
        parser.add_argument("--queue", default="gpu", help="ready: the queue it must consume (default gpu)")
        parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the worker's answer")

    def handle(self, *args, check: str, hostname: str, queue: str, timeout: float, **options):
        if not settings.REDIS_URL:
            raise CommandError("worker probes need the Redis broker (REDIS_URL); runhub supervises its own worker")
        if not ping(hostname, timeout):
            raise CommandError(f"{hostname}: no answer to a ping within {timeout:g} s")
        if check == "ready":
            for name, problem in (("database", check_database()), ("broker", check_broker())):
                if problem:
                    raise CommandError(f"{name} is down: {problem}")
            queues = consumed_queues(hostname, timeout)
            if queue not in queues:
                raise CommandError(f"{hostname} does not consume the {queue} queue (it consumes: {sorted(queues)})")
        self.stdout.write(f"{hostname}: {check}")
