"""The blob store: content-addressed bytes behind one small interface (``base.BlobStore``).

``local`` keeps blobs on disk (``local.py``); ``s3`` hands finished temp files
to S3-compatible object storage through boto3 (``s3.py``).
``get_store()`` returns the one ``HUB_STORAGE`` names.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.conf import settings

from models_app.storage.base import BlobStore, blob_key

__all__ = ["BlobStore", "blob_key", "get_store"]


@lru_cache(maxsize=1)
def _configured_store(kind: str, root: str, tmp_root: str) -> BlobStore:
    if kind == "s3":
        from models_app.storage.s3 import S3BlobStore

        return S3BlobStore(Path(tmp_root))
    from models_app.storage.local import LocalBlobStore

    return LocalBlobStore(Path(root), Path(tmp_root))


def get_store() -> BlobStore:
    # Keyed on the settings so tests that point BLOB_DIR elsewhere get a fresh store.
    return _configured_store(settings.HUB_STORAGE, str(settings.BLOB_DIR), str(settings.UPLOAD_TMP_DIR))
