"""The S3-compatible blob store (AWS S3, MinIO, Ceph, moto) through django-storages.

Temp files stay on local disk (``UPLOAD_TMP_DIR``) while they are hashed; a
finished file is uploaded under its content address ``ab/cd/<sha256>``. The
same key always holds the same bytes, so an object that exists already is
not uploaded again, and a half-finished upload never has a key at all.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.files import File
from storages.backends.s3 import S3Storage

from models_app.storage.base import blob_key


def s3_storage() -> S3Storage:
    return S3Storage(
        bucket_name=settings.AWS_STORAGE_BUCKET_NAME,
        endpoint_url=settings.AWS_S3_ENDPOINT_URL,
        region_name=settings.AWS_S3_REGION_NAME,
        access_key=settings.AWS_ACCESS_KEY_ID,
        secret_key=settings.AWS_SECRET_ACCESS_KEY,
        default_acl=None,
        file_overwrite=True,  # content-addressed: an overwrite writes the same bytes
        querystring_expire=3600,
    )


class S3BlobStore:
    def __init__(self, tmp_root: Path, storage: S3Storage | None = None):
        self.tmp_root = Path(tmp_root)
        self.storage = storage or s3_storage()

    def temp_file(self) -> tempfile._TemporaryFileWrapper:
        self.tmp_root.mkdir(parents=True, exist_ok=True)
        return tempfile.NamedTemporaryFile(dir=self.tmp_root, prefix="upload-", suffix=".part", delete=False)

    def accept(self, temp_path: Path, sha256: str) -> str:
        key = blob_key(sha256)
        try:
            if not self.storage.exists(key):
                with open(temp_path, "rb") as handle:
                    # boto3 sends large files as a multipart upload; the object appears whole or not at all.
                    self.storage.save(key, File(handle, name=key))
        finally:
            os.unlink(temp_path)
        return key

    def exists(self, key: str) -> bool:
        return self.storage.exists(key)

    def open(self, key: str) -> BinaryIO:
        return self.storage.open(key, "rb")

    def local_path(self, key: str) -> Path | None:
        return None

    def url(self, key: str, expire: int = 3600) -> str:
        """A presigned GET URL (downloads can redirect there; the HF client drops its token on another host)."""
        return self.storage.url(key, expire=expire)

    def delete(self, key: str) -> None:
        self.storage.delete(key)

    # Files that are not content-addressed blobs (Xet xorbs and their indexes, models_app/xet/xorb_store.py),
    # through boto3's managed transfers: multipart and parallel for large files.
    def put_file(self, key: str, path: Path) -> None:
        self.storage.bucket.upload_file(str(path), key)

    def fetch_file(self, key: str, path: Path) -> None:
        self.storage.bucket.download_file(key, str(path))
