"""``manage.py runhub``: the whole hub on one machine (what ``make run`` starts).

Starts the ASGI server (HTTP and websockets, as hub/webserver.py says) and one Celery worker
for the ``gpu`` queue with its beat scheduler (the periodic sweepers), as
child processes, and stops both when either stops or on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from hub import webserver


class Command(BaseCommand):
    help = "Run the web server and a validation worker together (one-machine mode)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-worker", action="store_true", help="start only the web server")
        parser.add_argument("--no-demo", action="store_true", help="do not publish the demo model")

    def handle(self, *args, host: str, port: int, no_worker: bool, no_demo: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        # Nothing can be uploading before the server starts: every temp file is a leftover.
        call_command("cleanup_uploads", max_age_minutes=0, verbosity=0)
        # SIGTERM (from a process manager or `kill`) stops the children too.
        signal.signal(signal.SIGTERM, _interrupt)
        python = sys.executable
        children: list[subprocess.Popen] = []
        web = webserver.command(host, port, proxy_headers=True)
        children.append(subprocess.Popen(web))
        if not no_worker:
            worker = [
                python,
                "-m",
                "celery",
                "-A",
                "hub",
                "worker",
                "-Q",
                "gpu,celery",
                "--concurrency",
                "1",
                "--beat",
                "--schedule",
                str(settings.DATA_DIR / "celerybeat-schedule"),
                "--loglevel",
                "INFO",
            ]
            children.append(subprocess.Popen(worker))
        if not no_demo and _has_command("publish_demo"):
            call_command("publish_demo")
        self.stdout.write(self.style.SUCCESS(f"TransferHub is running on http://{host}:{port}/  (Ctrl-C stops it)"))
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _has_command(name: str) -> bool:
    from django.core.management import get_commands

    return name in get_commands()
