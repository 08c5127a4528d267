"""Make a hub ready for the load: ``prepare.py TOKENS_OUT COUNT MODEL...``.

Against whatever hub the environment names (the cluster's env file, or one-machine mode's
HUB_DATA_DIR), in one Django process (each start costs seconds on a busy 2-core machine):

1. ``manage.py create_token loadN --scope write --create-user`` (the command operators use) COUNT
   times, written as ``username token`` lines to TOKENS_OUT for the locustfile's chatting users;
2. waits until every MODEL (``owner/name``) has a ``main`` branch and no validation run is queued
   or running, so the measurement is not sharing the CPUs with a training job.
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

WAIT_SECONDS = 1800


def main(out: str, count: int, models: list[str]) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from models_app.models import Ref
    from models_app.validation.models import ValidationRun

    lines = []
    for i in range(count):
        stdout = io.StringIO()
        call_command("create_token", f"load{i}", scope="write", create_user=True, name="load", stdout=stdout)
        lines.append(f"load{i} {stdout.getvalue().strip()}\n")
    Path(out).write_text("".join(lines))
    print(f"prepare: {count} write tokens in {out}", flush=True)

    deadline = time.monotonic() + WAIT_SECONDS
    busy = ValidationRun.Status.QUEUED, ValidationRun.Status.RUNNING
    while True:
        missing = [
            m
            for m in models
            if not Ref.objects.filter(
                repo__owner__username__iexact=m.split("/")[0], repo__name__iexact=m.split("/")[1], name="main"
            ).exists()
        ]
        running = ValidationRun.objects.filter(status__in=busy).count()
        if not missing and not running:
            print("prepare: models published, no validation running", flush=True)
            return
        if time.monotonic() > deadline:
            sys.exit(f"prepare: still waiting after {WAIT_SECONDS} s: missing {missing}, {running} runs busy")
        print(f"prepare: waiting for {missing or 'nothing'} and {running} validation runs", flush=True)
        time.sleep(10)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
