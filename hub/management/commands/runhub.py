"""``manage.py runhub``: the whole hub on one machine (what ``make run`` starts).

Starts the ASGI server (HTTP and websockets, uvicorn, as hub/webserver.py says)
and one Celery worker for the ``gpu`` queue with its beat scheduler (the
periodic sweepers) as child processes, under hub/supervisor.py: a child that
crashes is restarted with backoff, and Ctrl-C or SIGTERM stops them all,
with every process they started. Beside them, once, ``publish_zoo`` builds and
publishes the zoo (``HUB_ZOO``) in the background: the first page does not wait
for it, and the zoo fills in, then is validated, over the following minutes.
"""

from __future__ import annotations

import os
import signal
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from hub import webserver
from hub.celery import worker_command
from hub.supervisor import Child, Supervisor


class Command(BaseCommand):
    help = "Run the web server and a validation worker together (one-machine mode)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-worker", action="store_true", help="start only the web server")
        parser.add_argument("--no-demo", action="store_true", help="do not publish the demo model")
        parser.add_argument("--no-zoo", action="store_true", help="do not publish the zoo (see HUB_ZOO)")

    def handle(self, *args, host: str, port: int, no_worker: bool, no_demo: bool, no_zoo: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        # Nothing can be uploading before the server starts: every temp file is a leftover.
        call_command("cleanup_uploads", max_age_minutes=0, verbosity=0)
        children = [Child("web", webserver.command(host, port, proxy_headers=True))]
        if not no_worker:
            children.append(
                Child("worker", worker_command(beat_schedule=str(settings.DATA_DIR / "celerybeat-schedule")))
            )
        zoo = None if no_zoo else zoo_command(settings.HUB_ZOO)
        supervisor = Supervisor(children)
        # The children run in sessions of their own, so a terminal's Ctrl-C (SIGINT), a
        # process manager's SIGTERM or a closed terminal's SIGHUP reach only this process:
        # each asks the supervisor to stop them. Installed before any child starts, so no
        # signal can end this process while its children keep running.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, lambda signum, frame: supervisor.request_stop())
        supervisor.start()
        try:
            if not no_demo and _has_command("publish_demo"):
                call_command("publish_demo")
            if zoo and _has_command("publish_zoo"):
                # After the demo, so the demo's validation is queued first.
                supervisor.add(Child("zoo", zoo, once=True))
            self.stdout.write(self.style.SUCCESS(f"TransferHub is running on http://{host}:{port}/  (Ctrl-C stops it)"))
            supervisor.run()
        finally:
            supervisor.stop()  # also when publish_demo failed; a no-op after run()


def zoo_command(wanted: list[str]) -> list[str] | None:
    """``manage.py publish_zoo`` for HUB_ZOO's value (``all``, ``none`` or names); None for none."""
    names = [name for name in wanted if name.lower() != "all"]
    if not wanted or any(name.lower() == "none" for name in wanted):
        return None
    command = [sys.executable, str(settings.BASE_DIR / "manage.py"), "publish_zoo"]
    return command + (["--only", *names] if names and len(names) == len(wanted) else [])


def _has_command(name: str) -> bool:
    from django.core.management import get_commands

    return name in get_commands()
