"""A new repo's first commit: ``.gitattributes``, as every repo on the Hugging Face Hub starts.

The client relies on it: an empty repo must already have a ``main`` with a
commit (``list_repo_files``, ``list_repo_commits`` and ``create_tag`` work on
it, and ``model_info.sha`` is set so ``parentCommit`` checks apply). The file
lists the patterns git-lfs would store as LFS objects; the hub decides upload
modes itself (``models_app/hf/commits.py``), so it is informational, but
clients and mirrors that clone the repo read it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from django.utils import timezone

from models_app.models import Blob, ModelRepo
from models_app.repos.blobs import git_blob_sha1
from models_app.repos.gitattributes import GITATTRIBUTES
from models_app.repos.revisions import revision_create
from models_app.storage import get_store
from models_app.storage.retention import keep_alive

INITIAL_MESSAGE = "initial commit"


def stored_blob(data: bytes) -> Blob:
    """The blob of ``data`` (small, in memory), written to the store when new."""
    digest = hashlib.sha256(data).hexdigest()
    store = get_store()
    existing = Blob.objects.filter(sha256=digest).first()
    if existing is not None and store.exists(existing.storage_key) and keep_alive(existing):
        return existing
    with store.temp_file() as handle:
        handle.write(data)
        handle.flush()
        temp = Path(handle.name)
        try:
            key = store.accept(temp, digest)
        except BaseException:
            if temp.exists():
                os.unlink(temp)
            raise
    blob, _ = Blob.objects.update_or_create(
        sha256=digest,
        defaults={"size": len(data), "storage_key": key, "created": timezone.now(), "git_oid": git_blob_sha1(data)},
    )
    return blob


def initial_commit(repo: ModelRepo, author) -> None:
    """Give a new repo its first revision on ``main``; not announced (nothing to validate or discuss)."""
    revision_create(
        repo,
        author=author,
        message=INITIAL_MESSAGE,
        add={".gitattributes": stored_blob(GITATTRIBUTES)},
        announce=False,
        hub_made=True,
    )
