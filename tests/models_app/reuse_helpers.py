"""Publishing test models through the hub's own ingest and revision code."""

from __future__ import annotations

from models_app.models import ModelRepo
from models_app.publish.uploads import Ingest
from models_app.repos.revisions import revision_create, tag_create


def publish(owner, name: str, files: dict[str, bytes], *, private: bool = False, tag: str | None = None, **fields):
    """Create (or update) ``owner/name`` with ``files`` as a new revision; returns (repo, revision)."""
    repo = ModelRepo.objects.filter(owner=owner, name=name).first()
    if repo is None:
        repo = ModelRepo.objects.create(owner=owner, name=name, private=private, **fields)
    elif fields:
        ModelRepo.objects.filter(pk=repo.pk).update(**fields)
        repo.refresh_from_db()
    ingest = Ingest(repo)
    for path, data in files.items():
        ingest.add(path, [data])
    revision = revision_create(repo, author=owner, message=f"add {', '.join(files)}", add=ingest.files).revision
    if tag:
        tag_create(repo, tag, revision)
    return repo, revision
