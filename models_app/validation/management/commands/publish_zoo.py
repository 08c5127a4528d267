"""``manage.py publish_zoo [--only NAME ...]``: build what is missing, then publish each entry as ``zoo/<name>``.

Idempotent like ``publish_demo``: a repo that already has a ``main`` is left
alone. Entries go cheapest first, so the home page fills while the larger
builds run. Each publish is an upload like any other (``Ingest``, then
``revision_create``), which queues the validation run.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from hub.orgs import system_org
from models_app.models import ModelRepo, Ref
from models_app.publish.service import publish_directory
from models_app.validation.management.commands.build_zoo import build_entries, selected
from models_app.validation.zoo import store
from models_app.validation.zoo.registry import ZOO_OWNER


def zoo_user():
    """The zoo's organization account (nobody signs in as it)."""
    return system_org(ZOO_OWNER, "TransferHub model zoo")


def is_published(owner, name: str) -> bool:
    repo = ModelRepo.objects.filter(owner=owner, repo_type=ModelRepo.RepoType.MODEL, name__iexact=name).first()
    return repo is not None and Ref.objects.filter(repo=repo, name="main", kind="branch").exists()


def publish_folder(owner, name: str, folder: Path, message: str):
    repo = ModelRepo.objects.filter(owner=owner, repo_type=ModelRepo.RepoType.MODEL, name__iexact=name).first()
    if repo is None:
        repo = ModelRepo.objects.create(owner=owner, name=name)
    return publish_directory(repo, folder, author=owner, message=message).revision


class Command(BaseCommand):
    help = "Build and publish the zoo's models under the zoo owner (once each)."

    def add_arguments(self, parser):
        parser.add_argument("--only", nargs="+", metavar="NAME", help="publish only these entries")

    def handle(self, *args, **options):
        from models_app.validation.management.commands.build_zoo import zoo_root

        owner = zoo_user()
        for entry in selected(options["only"]):  # the registry's order: cheapest first
            if is_published(owner, entry.name):
                self.stdout.write(f"{ZOO_OWNER}/{entry.name} is already published.")
                continue
            # One at a time, so the first model is on the hub before the next build starts.
            if not build_entries(self, [entry]):
                continue
            folder = store.model_dir(zoo_root(), entry)
            revision = publish_folder(owner, entry.name, folder, f"Publish the zoo model {entry.name}")
            self.stdout.write(
                self.style.SUCCESS(f"Published {ZOO_OWNER}/{entry.name} at {revision.sha[:12]}; validation queued.")
            )
