"""``manage.py publish_folder USER/NAME PATH [--tag T] [--private]``: publish a local folder as a revision.

Goes through the same ingest and revision code as an upload (``uploads.Ingest``,
``revisions.revision_create``), creating the user and the repo when missing.
Prints the new revision's sha (and nothing else) on stdout.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from hub.api import ApiError
from hub.models import User
from models_app.models import ModelRepo
from models_app.publish.service import publish_directory
from models_app.repos.revisions import tag_create
from models_app.repos.rules import repo_create


class Command(BaseCommand):
    help = "Publish the files of a local folder as a new revision of USER/NAME (created when missing)."

    def add_arguments(self, parser):
        parser.add_argument("repo_id", help="owner/name")
        parser.add_argument("path", type=Path)
        parser.add_argument("--tag", default=None, help="also tag the new revision")
        parser.add_argument("--private", action="store_true")
        parser.add_argument("--message", default="Publish folder")
        parser.add_argument("--pipeline-tag", default=None)
        parser.add_argument("--library", default=None)
        parser.add_argument("--license", default=None)
        parser.add_argument("--tags", default=None, help="comma-separated")
        parser.add_argument("--languages", default=None, help="comma-separated")
        parser.add_argument("--repo-type", default="model", choices=["model", "dataset"], help="model or dataset")

    def handle(
        self, *args, repo_id: str, path: Path, tag: str | None, private: bool, message: str, repo_type: str, **options
    ):
        owner_name, _, name = repo_id.partition("/")
        if not owner_name or not name:
            raise CommandError("repo_id must read owner/name.")
        if not path.is_dir():
            raise CommandError(f"{path} is not a folder.")
        owner = User.objects.filter(username__iexact=owner_name).first() or User.objects.create_user(owner_name)
        try:
            repo = ModelRepo.objects.filter(owner=owner, repo_type=repo_type, name__iexact=name).first() or repo_create(
                owner, name, private=private, repo_type=repo_type
            )
            result = publish_directory(repo, path, author=owner, message=message)
            if tag:
                tag_create(repo, tag, result.revision)
        except ApiError as exc:
            raise CommandError(exc.message) from None
        _apply_metadata(repo, private=private, **options)
        self.stdout.write(result.revision.sha)


def _apply_metadata(repo: ModelRepo, *, private: bool, **options) -> None:
    def split(value):
        return [v.strip() for v in value.split(",") if v.strip()] if value else None

    changes = {
        "pipeline_tag": options.get("pipeline_tag"),
        "library_name": options.get("library"),
        "license": options.get("license"),
        "tags": split(options.get("tags")),
        "languages": split(options.get("languages")),
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    if private and not repo.private:
        changes["private"] = True
    if changes:
        ModelRepo.objects.filter(pk=repo.pk).update(**changes)
