"""Blob ids in the client's terms: sha256 for LFS files, git's sha1 object id for regular files.

``huggingface_hub`` compares a regular file's ``blobId``/``oid`` with the git
object id of its local copy (``verify_repo_checksums``, preupload's unchanged
check). The hub names blobs by sha256, so the git id is kept beside it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from models_app.models import Blob
from models_app.storage import get_store

# What the HF hub stores as LFS: from this size up, or a weights/archive suffix; the rest are regular git blobs.
LFS_MIN_SIZE = 10 * 1024 * 1024
LFS_SUFFIXES = (
    ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".onnx", ".msgpack", ".gguf", ".npy", ".npz",
    ".tflite", ".pb", ".ot", ".model", ".pkl", ".joblib", ".zip", ".tar", ".gz", ".arrow", ".parquet",
)  # fmt: skip


def is_lfs(path: str, size: int) -> bool:
    # An empty file is never an LFS object (the HF hub keeps it in git whatever its name).
    return size >= LFS_MIN_SIZE or (size > 0 and path.lower().endswith(LFS_SUFFIXES))


def git_blob_sha1(data: bytes) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(f"blob {len(data)}\0".encode())
    digest.update(data)
    return digest.hexdigest()


def git_oid_of_file(path, size: int) -> str:
    """The git object id of a stored-to-be file, or "" for one large enough to be LFS whatever its name.

    Computed when a blob is ingested, so tree and info pages need not read
    blobs back (``fill_git_oids`` is left for blobs stored before the column).
    The file is read once more; it is under ``LFS_MIN_SIZE`` and was just written.
    """
    if size >= LFS_MIN_SIZE:
        return ""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(f"blob {size}\0".encode())
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def fill_git_oids(rows: Iterable[dict]) -> None:
    """Set ``row["blob__git_oid"]`` on manifest rows whose small blob lacks one (read once, then saved)."""
    store = None
    for row in rows:
        if row.get("blob__git_oid") or row["blob__size"] >= LFS_MIN_SIZE:
            continue
        store = store or get_store()
        blob = Blob.objects.filter(pk=row["blob_id"]).only("storage_key").first()
        if blob is None or not store.exists(blob.storage_key):
            continue
        with store.open(blob.storage_key) as handle:
            oid = git_blob_sha1(handle.read())
        Blob.objects.filter(pk=row["blob_id"]).update(git_oid=oid)
        row["blob__git_oid"] = oid


def file_oid(row: dict) -> str:
    """The ``oid`` the client expects for a manifest row (``path``, ``blob_id``, ``blob__size``, ``blob__git_oid``)."""
    if is_lfs(row["path"], row["blob__size"]):
        return row["blob_id"]
    return row.get("blob__git_oid") or row["blob_id"]


def blob_git_oid(blob: Blob) -> str | None:
    """``blob``'s git object id, None for a blob too large to be a regular file."""
    if blob.size >= LFS_MIN_SIZE:
        return None
    row = {"blob_id": blob.sha256, "blob__size": blob.size, "blob__git_oid": blob.git_oid}
    fill_git_oids([row])
    return row["blob__git_oid"] or None


def client_etag(blob: Blob, path: str) -> str:
    """The ``ETag`` a download answers: sha256 for an LFS file, the git object id for a regular one.

    huggingface_hub compares it with its local copy's id in the same terms (``hf_hub_download(local_dir=...)``
    skips a file whose id matches), as against the Hugging Face hub.
    """
    if is_lfs(path, blob.size):
        return blob.sha256
    return blob_git_oid(blob) or blob.sha256
