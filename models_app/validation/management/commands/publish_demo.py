"""``manage.py publish_demo``: publish ``demo/tiny-bert`` once, so the worker validates it.

Idempotent: a demo repo that already has a ``main`` is left alone. The model is
built in a child process (torch stays out of ``runhub``), then published the
way any upload is: ``Ingest`` streams each file into the blob store and
``revision_create`` commits them (applying the README's card metadata, which
picks the reference task), which queues the validation run.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from hub.orgs import system_org
from models_app.models import ModelRepo, Ref
from models_app.publish.service import publish_directory
from models_app.validation.demo import DEMO_NAME, DEMO_OWNER


class Command(BaseCommand):
    help = "Build a tiny BERT locally and publish it as demo/tiny-bert (once)."

    def handle(self, *args, **options):
        owner = system_org(DEMO_OWNER, "TransferHub demo")  # an organization: nobody signs in as it
        repo = ModelRepo.objects.filter(owner=owner, repo_type=ModelRepo.RepoType.MODEL, name__iexact=DEMO_NAME).first()
        if repo is not None and Ref.objects.filter(repo=repo, name="main", kind="branch").exists():
            self.stdout.write(f"{DEMO_OWNER}/{DEMO_NAME} is already published.")
            return
        with tempfile.TemporaryDirectory(dir=settings.DATA_DIR) as tmp:
            out = Path(tmp) / "model"
            build = subprocess.run(
                [sys.executable, "-m", "models_app.validation.demo", str(out)],
                cwd=settings.BASE_DIR,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if build.returncode != 0:
                raise CommandError(f"building the demo model failed:\n{build.stderr[-2000:]}")
            if repo is None:
                repo = ModelRepo.objects.create(owner=owner, name=DEMO_NAME)
            result = publish_directory(repo, out, author=owner, message="Publish the demo model")
        self.stdout.write(
            self.style.SUCCESS(f"Published {DEMO_OWNER}/{DEMO_NAME} at {result.revision.sha[:12]}; validation queued.")
        )
