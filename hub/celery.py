"""The Celery app, and the one command line that starts a worker for it.

Validation jobs go to the ``gpu`` queue (see settings.CELERY_*).
"""

import os
import sys

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

app = Celery("hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def worker_command(*, beat_schedule: str | None = None, hostname: str | None = None) -> list[str]:
    """argv for a worker on the ``gpu`` and ``celery`` queues, one job at a time (runhub and the tests' LiveHub).

    ``beat_schedule``: also run beat (the periodic sweepers) with that schedule file.
    """
    argv = [sys.executable, "-m", "celery", "-A", "hub", "worker", "-Q", "gpu,celery", "--concurrency", "1"]
    if beat_schedule:
        argv += ["--beat", "--schedule", beat_schedule]
    if hostname:
        argv += ["--hostname", hostname]
    return [*argv, "--loglevel", "INFO"]
