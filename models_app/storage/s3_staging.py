"""Staged objects in the S3 bucket: what clients upload straight to the store, before the hub trusts it.

A direct LFS upload (``models_app/hf/lfs_staged.py``) lands under
``staging/<sha256>/<random>``, never under the blob's content address. Only
after a worker (or the web process, for a small one) has read it back and
found the sha256 and size the client announced is it copied to ``ab/cd/<sha256>``;
the staged copy is then deleted. A key nobody verifies stays under ``staging/``,
where nothing reads it (a bucket lifecycle rule on that prefix clears it:
docs/operations.md).

Everything goes through boto3's public client API: presigned URLs for
``put_object`` and ``upload_part``, and ``complete_multipart_upload``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings

from models_app.storage.base import blob_key
from models_app.storage.s3 import object_size, s3_client

STAGING_PREFIX = "staging/"
# S3 allows at most this many parts per upload; a huge object gets larger parts.
MAX_PARTS = 10_000
READ_CHUNK = 8 * 1024 * 1024


def client():
    return s3_client()  # one thread-safe client per process, shared with the blob store (s3.py)


def bucket() -> str:
    return settings.AWS_STORAGE_BUCKET_NAME


def new_staging_key(sha256: str) -> str:
    # Random per batch answer: two uploaders of the same bytes never write the same staged key.
    return f"{STAGING_PREFIX}{sha256}/{secrets.token_hex(12)}"


def presigned_put(key: str, expires: int) -> str:
    return client().generate_presigned_url(
        "put_object", Params={"Bucket": bucket(), "Key": key}, ExpiresIn=expires, HttpMethod="PUT"
    )


def part_size_for(size: int) -> int:
    part = max(settings.HUB_LFS_PART_SIZE, 5 * 1024 * 1024)
    return max(part, -(-size // MAX_PARTS))


@dataclass
class Multipart:
    upload_id: str
    part_size: int
    part_urls: list[str]


def start_multipart(key: str, size: int, expires: int) -> Multipart:
    part = part_size_for(size)
    upload_id = client().create_multipart_upload(Bucket=bucket(), Key=key)["UploadId"]
    urls = [
        client().generate_presigned_url(
            "upload_part",
            Params={"Bucket": bucket(), "Key": key, "UploadId": upload_id, "PartNumber": number},
            ExpiresIn=expires,
            HttpMethod="PUT",
        )
        for number in range(1, max(1, -(-size // part)) + 1)
    ]
    return Multipart(upload_id, part, urls)


def complete_multipart(key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
    client().complete_multipart_upload(
        Bucket=bucket(),
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": number, "ETag": etag} for number, etag in parts]},
    )


# The staged object's size, or None when nothing is stored under the key (yet): the blob store's HEAD.
staged_size = object_size


def read_staged(key: str) -> Iterator[bytes]:
    body = client().get_object(Bucket=bucket(), Key=key)["Body"]
    try:
        yield from body.iter_chunks(READ_CHUNK)
    finally:
        body.close()


def promote(key: str, sha256: str) -> str:
    """Copy a verified staged object to its content address (unless already there); the blob key."""
    final = blob_key(sha256)
    if staged_size(final) is None:
        # The managed copy: server-side, in parts when the object is over 5 GB (one CopyObject's limit).
        client().copy({"Bucket": bucket(), "Key": key}, bucket(), final)
    discard(key)
    return final


def discard(key: str) -> None:
    client().delete_object(Bucket=bucket(), Key=key)
