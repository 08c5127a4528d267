"""The local-disk blob store (the one-machine default).

Blobs live under ``BLOB_DIR/ab/cd/<sha256>``; temp files are written beside
them (same filesystem) so accepting a blob is one atomic ``os.replace``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from models_app.storage.base import blob_key


class LocalBlobStore:
    def __init__(self, root: Path, tmp_root: Path):
        self.root = Path(root)
        self.tmp_root = Path(tmp_root)

    def temp_file(self) -> tempfile._TemporaryFileWrapper:
        """A new temp file on the store's filesystem; the ``.part`` suffix marks it for cleanup."""
        self.tmp_root.mkdir(parents=True, exist_ok=True)
        return tempfile.NamedTemporaryFile(dir=self.tmp_root, prefix="upload-", suffix=".part", delete=False)

    def accept(self, temp_path: Path, sha256: str) -> str:
        """Move a finished temp file into place. Same bytes already stored: the temp file goes."""
        key = blob_key(sha256)
        dest = self.root / key
        if dest.exists():
            os.unlink(temp_path)
            return key
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(temp_path, 0o644)
        # Atomic on one filesystem: readers see no file or the whole file, never a part.
        os.replace(temp_path, dest)
        return key

    def exists(self, key: str) -> bool:
        return (self.root / key).is_file()

    def open(self, key: str) -> BinaryIO:
        return open(self.root / key, "rb")  # noqa: SIM115 - the caller closes it

    def local_path(self, key: str) -> Path | None:
        return self.root / key

    def delete(self, key: str) -> None:
        try:
            os.unlink(self.root / key)
        except FileNotFoundError:
            pass
