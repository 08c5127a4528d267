"""The S3-compatible blob store (AWS S3, MinIO, Ceph, moto) through one shared boto3 client.

Temp files stay on local disk (``UPLOAD_TMP_DIR``) while they are hashed; a
finished file is uploaded under its content address ``ab/cd/<sha256>``. The
same key always holds the same bytes, so an object that exists already is
not uploaded again, and a half-finished upload never has a key at all.

Why a client and not django-storages' ``S3Storage``: its connection is a boto3
resource kept per thread (resources are not thread-safe), and under ASGI every
request runs its sync code in a new thread, so each request built a boto3
session and its service model again: about 0.4 s of CPU per call that touched
the store (a download's redirect, an LFS batch or verify), found with py-spy
in bench/bench_s3_direct.py. A boto3 client is thread-safe: one per process
serves every thread.
"""

from __future__ import annotations

import io
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from models_app.storage.base import blob_key

MISSING = ("404", "NoSuchKey", "NotFound")


@lru_cache(maxsize=4)
def _client(endpoint: str | None, region: str, key_id: str | None, secret: str | None):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(signature_version="s3v4"),
    )


def s3_client():
    # Keyed on the settings so tests that point at another server get a client for it.
    return _client(
        settings.AWS_S3_ENDPOINT_URL,
        settings.AWS_S3_REGION_NAME,
        settings.AWS_ACCESS_KEY_ID,
        settings.AWS_SECRET_ACCESS_KEY,
    )


def is_missing(exc: Exception) -> bool:
    return getattr(exc, "response", {}).get("Error", {}).get("Code") in MISSING


def object_size(key: str) -> int | None:
    """The size of the object under ``key`` in the bucket, or None when there is none (one HEAD)."""
    from botocore.exceptions import ClientError

    try:
        return s3_client().head_object(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Key=key)["ContentLength"]
    except ClientError as exc:
        if is_missing(exc):
            return None
        raise


class _ObjectReader(io.RawIOBase):
    """A seekable read-only view of one object: each read after a seek is a ranged GET, streamed."""

    def __init__(self, client, bucket: str, key: str, size: int):
        self._client, self._bucket, self._key, self._size = client, bucket, key, size
        self._pos, self._body = 0, None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        target = max(0, base + offset)
        if target != self._pos:
            self._drop_body()
            self._pos = target
        return self._pos

    def readinto(self, buffer) -> int:
        if self._pos >= self._size:
            return 0
        if self._body is None:
            answer = self._client.get_object(Bucket=self._bucket, Key=self._key, Range=f"bytes={self._pos}-")
            self._body = answer["Body"]
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def _drop_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._drop_body()
        super().close()


class S3BlobStore:
    def __init__(self, tmp_root: Path):
        self.tmp_root = Path(tmp_root)

    @property
    def client(self):
        return s3_client()

    @property
    def bucket(self) -> str:
        return settings.AWS_STORAGE_BUCKET_NAME

    def temp_file(self) -> tempfile._TemporaryFileWrapper:
        self.tmp_root.mkdir(parents=True, exist_ok=True)
        return tempfile.NamedTemporaryFile(dir=self.tmp_root, prefix="upload-", suffix=".part", delete=False)

    def accept(self, temp_path: Path, sha256: str) -> str:
        key = blob_key(sha256)
        try:
            if not self.exists(key):
                # boto3's managed transfer sends a large file in parts; the object appears whole or not at all.
                self.client.upload_file(str(temp_path), self.bucket, key)
        finally:
            os.unlink(temp_path)
        return key

    def exists(self, key: str) -> bool:
        return object_size(key) is not None

    def open(self, key: str) -> BinaryIO:
        size = object_size(key)
        if size is None:
            raise FileNotFoundError(f"no object {key!r} in bucket {self.bucket!r}")
        return io.BufferedReader(_ObjectReader(self.client, self.bucket, key, size), buffer_size=1024 * 1024)

    def local_path(self, key: str) -> Path | None:
        return None

    def url(self, key: str, expire: int = 3600) -> str:
        """A presigned GET URL (downloads can redirect there; the HF client drops its token on another host)."""
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expire
        )

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    # Files that are not content-addressed blobs (Xet xorbs and their indexes, models_app/xet/xorb_store.py),
    # through boto3's managed transfers: multipart and parallel for large files.
    def put_file(self, key: str, path: Path) -> None:
        self.client.upload_file(str(path), self.bucket, key)

    def fetch_file(self, key: str, path: Path) -> None:
        self.client.download_file(self.bucket, key, str(path))
