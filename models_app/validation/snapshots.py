"""A revision's files as a folder on the worker, built from a cache of blobs keyed by sha256.

``VALIDATION_CACHE_DIR/blobs/ab/<sha256>`` holds each blob once per worker
machine (a hardlink to the local blob store when it shares the filesystem, else
a verified copy), so a model validated twice, or two revisions sharing weights,
are fetched once. A run's snapshot is a fresh folder of hardlinks into that
cache, removed after the run. Fetched copies are made read-only. The cache is
pruned to ``VALIDATION_CACHE_MAX_BYTES`` after each run, least recently used
first; a hardlink into the local store costs no space and is not counted.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings

from models_app.models import RepoFile, Revision
from models_app.storage import get_store


class SnapshotError(Exception):
    """A blob could not be fetched or did not match its sha256."""


def cache_root() -> Path:
    root = Path(settings.VALIDATION_CACHE_DIR)
    root.mkdir(parents=True, exist_ok=True)
    return root


def cached_blob(sha256: str, storage_key: str) -> Path:
    """The cache path of one blob, fetching it first if this machine does not hold it yet."""
    dest = cache_root() / "blobs" / sha256[:2] / sha256
    if dest.exists():
        os.utime(dest)  # last use, for the LRU prune
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    store = get_store()
    local = store.local_path(storage_key)
    if local is not None and local.is_file():
        try:
            os.link(local, dest)  # same filesystem: no copy at all (the store's files are 0644 already)
            return dest
        except FileExistsError:
            return dest
        except OSError:
            pass  # another filesystem: copy below
    # Write beside the destination and rename, so a half-fetched blob is never used;
    # two workers fetching the same blob both succeed (the rename is atomic).
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=dest.parent, prefix=".fetch-", delete=False) as out:
        tmp = Path(out.name)
        try:
            with store.open(storage_key) as src:
                while chunk := src.read(1024 * 1024):
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    if digest.hexdigest() != sha256:
        tmp.unlink(missing_ok=True)
        raise SnapshotError(f"blob {sha256[:12]} read back with a different sha256; the store is damaged")
    os.chmod(tmp, 0o444)
    os.replace(tmp, dest)
    return dest


def materialize(revision: Revision) -> Path:
    """A new folder holding every file of ``revision`` at its path. The caller removes it (``discard``)."""
    root = cache_root() / "snapshots"
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{revision.sha[:12]}-", dir=root))
    files = RepoFile.objects.filter(revision=revision).select_related("blob").order_by("path")
    for repo_file in files:
        target = (folder / repo_file.path).resolve()
        # Paths were normalised on upload; this guards the worker even so.
        if not target.is_relative_to(folder.resolve()):
            raise SnapshotError(f"{repo_file.path}: path leaves the snapshot")
        target.parent.mkdir(parents=True, exist_ok=True)
        source = cached_blob(repo_file.blob.sha256, repo_file.blob.storage_key)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
    return folder


def prune_cache() -> int:
    """Delete least recently used cached copies until they fit the cap; returns bytes freed.

    Only files with one link are counted and deleted: a second link is the local
    blob store (no extra space) or a snapshot some run is using right now.
    """
    limit = settings.VALIDATION_CACHE_MAX_BYTES
    entries = []
    for path in (cache_root() / "blobs").glob("*/*"):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        if stat.st_nlink == 1 and not path.name.startswith("."):  # a copy, not a hardlink into the store
            entries.append((stat.st_mtime, stat.st_size, path))
    total, freed = sum(size for _, size, _ in entries), 0
    for _, size, path in sorted(entries):
        if total - freed <= limit:
            break
        path.unlink(missing_ok=True)
        freed += size
    return freed


def discard(folder: Path | None) -> None:
    """Remove a run's snapshot, then trim the cache."""
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
    prune_cache()
