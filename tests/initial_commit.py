"""What a repo holds besides the initial commit every new repo starts with.

``repo_create`` gives each repo an initial commit holding ``.gitattributes``
(models_app/repos/initial.py), as the Hugging Face hub does: the store holds
that one small blob once a repo exists, and each repo one revision. "Nothing
kept" checks look past them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from models_app.models import Blob, Revision
from models_app.repos.initial import GITATTRIBUTES, INITIAL_MESSAGE

GITATTRIBUTES_SHA256 = hashlib.sha256(GITATTRIBUTES).hexdigest()


def uploaded_blobs():
    """Blob rows other than the initial ``.gitattributes`` blob."""
    return Blob.objects.exclude(sha256=GITATTRIBUTES_SHA256)


def uploaded_files(blob_dir: Path) -> list[bytes]:
    """The bytes of every file in ``blob_dir`` but the initial ``.gitattributes`` blob."""
    contents = (path.read_bytes() for path in sorted(Path(blob_dir).rglob("*")) if path.is_file())
    return [data for data in contents if data != GITATTRIBUTES]


def uploaded_revisions():
    """Revisions other than the repos' initial commits."""
    return Revision.objects.exclude(parent=None, message=INITIAL_MESSAGE)
