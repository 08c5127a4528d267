"""Where xorbs live: the local CAS folder, and in S3 mode the object store behind it.

With local storage, ``XET_DIR/xorbs`` is the store (a shared folder when CAS
processes run on several machines). In S3 mode the bucket is the store: a
verified xorb and its index are written through to ``xet/xorbs/ab/<hash>``
before the row that names them exists, and ``XET_DIR/xorbs`` is only each CAS
process's cache, filled from the bucket on a miss. So a shard registered on one
CAS process can be rebuilt from xorbs another one received, and CAS processes
can be added, moved or wiped without losing anything.

The trade-off (docs/xet.md, "Where the bytes go"): every xorb is written twice
(local cache and bucket), and a rebuild on a cold process first downloads the
xorbs it needs, at most 64 MiB each.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from models_app.storage import get_store


def remote_key(path: Path) -> str:
    """The object key of a cached xorb or index file: ``xet/xorbs/ab/<hash>.xorb`` (or ``.idx``)."""
    return f"xet/xorbs/{path.parent.name}/{path.name}"


def _remote():
    """The object store, when there is one (S3 mode); None when the local folder is the store."""
    store = get_store()
    return store if hasattr(store, "put_file") else None


def publish(*paths: Path) -> None:
    """Write verified files through to the object store (S3 mode); the caller records the row afterwards."""
    store = _remote()
    if store is None:
        return
    for path in paths:
        store.put_file(remote_key(path), path)


def held(path: Path) -> bool:
    """The file is in the cache or, in S3 mode, in the bucket."""
    if path.is_file():
        return True
    store = _remote()
    return store is not None and store.exists(remote_key(path))


def ensure_local(path: Path) -> bool:
    """Make ``path`` readable locally, fetching it from the bucket on a cache miss; False when it is nowhere."""
    if path.is_file():
        return True
    store = _remote()
    if store is None or not store.exists(remote_key(path)):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    # Fetched beside its final name, then renamed: a reader never sees half a file.
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".part")
    os.close(handle)
    try:
        store.fetch_file(remote_key(path), Path(partial))
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
    return True


def forget(*paths: Path) -> None:
    """Delete from the cache and, in S3 mode, from the bucket (the cleanup's last step, after the row)."""
    store = _remote()
    for path in paths:
        path.unlink(missing_ok=True)
        if store is not None:
            store.delete(remote_key(path))
