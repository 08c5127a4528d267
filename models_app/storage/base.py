"""What every blob store is: content-addressed keys and the small interface the hub uses."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol


def blob_key(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


class BlobStore(Protocol):
    def temp_file(self) -> tempfile._TemporaryFileWrapper: ...
    def accept(self, temp_path: Path, sha256: str) -> str: ...
    def exists(self, key: str) -> bool: ...
    def open(self, key: str) -> BinaryIO: ...
    def local_path(self, key: str) -> Path | None: ...
    def delete(self, key: str) -> None: ...
