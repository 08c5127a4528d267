"""Direct LFS uploads in S3 mode: the client sends the bytes to the object store, the hub checks them.

The batch answer (``lfs.lfs_batch``) carries, per object, presigned URLs to a
staging key (``storage/s3_staging.py``), shaped as the Hugging Face Hub answers
them and ``huggingface_hub/lfs.py`` reads them:

- under ``HUB_LFS_MULTIPART_THRESHOLD``: ``actions.upload.href`` is one presigned PUT;
- from it: ``actions.upload.header`` holds ``chunk_size`` and one presigned part
  URL per part ("00001", "00002", ...), and ``href`` is this hub's completion
  URL, to which the client POSTs ``{oid, parts: [{partNumber, etag}]}``.

Every answer also has a ``verify`` action. No commit can name the object before
verify has succeeded: ``verify_staged`` reads the staged bytes back, hashes them
(sha256 and, for small files, the git object id), checks the size, and only
then copies them to the blob's content address and creates the ``Blob`` row
that commits look up (``lfs_objects.usable_blob``). A mismatching object is
deleted and the verify call answers 422. The store's own checksums are not
used: a multipart object's checksum is a checksum of the parts' checksums, not
the sha256 the LFS oid names, so the bytes are hashed here.

Objects up to ``HUB_LFS_VERIFY_INLINE_MAX`` are hashed in the verify request;
larger ones by a Celery worker (``tasks.verify_staged_object``), so the web
processes never carry large bytes. The verify request waits up to
``HUB_LFS_VERIFY_WAIT`` seconds for the worker's verdict (kept in the cache).
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache
from django.utils import timezone

from models_app.hf.lfs_objects import UPLOAD_LINK_MAX_AGE, LfsError, remember_upload, upload_grant
from models_app.models import Blob, ModelRepo
from models_app.repos.blobs import LFS_MIN_SIZE
from models_app.storage import s3_staging

SIGNING_SALT = "transferhub.lfs-staged"
VERIFY_TASK = "lfs.verify_staged"
# How long a verdict is kept for the verify calls (and their retries) that ask for it.
VERDICT_TTL = UPLOAD_LINK_MAX_AGE
OK = "ok"
QUEUED = "queued"


def enabled() -> bool:
    return settings.HUB_STORAGE == "s3"


def grant_token(user, repo: ModelRepo, oid: str, size: int, key: str, upload_id: str = "") -> str:
    return signing.dumps({"u": user.pk, "r": repo.pk, "o": oid, "s": size, "k": key, "m": upload_id}, salt=SIGNING_SALT)


def read_grant(token: str, oid: str) -> dict:
    """The signed grant in a direct-upload link: the PUT links' checks, under this module's own salt."""
    return upload_grant(token, oid, salt=SIGNING_SALT)


def upload_actions(user, repo: ModelRepo, oid: str, size: int, complete_url: str, verify_url: str) -> dict:
    """The ``actions`` of one object's batch answer (the URLs get the signed grant appended)."""
    key = s3_staging.new_staging_key(oid)
    expires = UPLOAD_LINK_MAX_AGE
    if size < settings.HUB_LFS_MULTIPART_THRESHOLD:
        token = grant_token(user, repo, oid, size, key)
        upload = {"href": s3_staging.presigned_put(key, expires), "expires_in": expires}
    else:
        multipart = s3_staging.start_multipart(key, size, expires)
        token = grant_token(user, repo, oid, size, key, multipart.upload_id)
        header = {"chunk_size": str(multipart.part_size)}
        header.update({f"{number:05d}": url for number, url in enumerate(multipart.part_urls, start=1)})
        upload = {"href": f"{complete_url}?t={token}", "header": header, "expires_in": expires}
    return {"upload": upload, "verify": {"href": f"{verify_url}?t={token}"}}


def complete(token: str, oid: str, payload: dict) -> None:
    """The client's multipart completion: assemble its parts in the store (the bytes are checked at verify)."""
    grant = read_grant(token, oid)
    if not grant.get("m"):
        raise LfsError("This upload was not a multipart upload.", status_code=400)
    parts = payload.get("parts") if isinstance(payload, dict) else None
    if not isinstance(parts, list) or not parts:
        raise LfsError("'parts' must be a list of {partNumber, etag}.", status_code=422)
    pairs = []
    for part in parts:
        number, etag = (part.get("partNumber"), part.get("etag")) if isinstance(part, dict) else (None, None)
        if not isinstance(number, int) or not isinstance(etag, str) or not 1 <= number <= s3_staging.MAX_PARTS:
            raise LfsError("Each part needs an integer 'partNumber' and its 'etag'.", status_code=422)
        pairs.append((number, etag))
    from botocore.exceptions import ClientError

    try:
        s3_staging.complete_multipart(grant["k"], grant["m"], sorted(pairs))
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message") or "the store refused the parts"
        raise LfsError(f"Could not complete the multipart upload: {message}.", status_code=422) from None


def _verdict_key(key: str) -> str:
    return f"lfs-verdict:{key}"


def verdict(grant: dict) -> str | None:
    """``OK``, ``QUEUED``, a refusal message, or None when nobody has looked at the object yet."""
    return cache.get(_verdict_key(grant["k"]))


def claim(grant: dict) -> bool:
    """True for the one verify call that should start the check (the others wait for its verdict)."""
    return cache.add(_verdict_key(grant["k"]), QUEUED, VERDICT_TTL)


def wait_for_verdict(grant: dict, seconds: float) -> str | None:
    deadline = time.monotonic() + seconds
    pause = 0.1
    while True:
        state = verdict(grant)
        if state not in (None, QUEUED) or time.monotonic() >= deadline:
            return state
        time.sleep(pause)
        pause = min(pause * 2, 1.0)  # a large object takes seconds to hash: ask the cache less often


def verify_staged(grant: dict) -> str:
    """Hash the staged object; promote it to a Blob if it is what the grant names. The verdict (also cached)."""
    try:
        state = _check_and_promote(grant)
    except BaseException:
        cache.delete(_verdict_key(grant["k"]))  # the store failed us, not the client: the next verify tries again
        raise
    cache.set(_verdict_key(grant["k"]), state, VERDICT_TTL)
    return state


def _check_and_promote(grant: dict) -> str:
    key, oid, size = grant["k"], grant["o"], grant["s"]
    existing = Blob.objects.filter(sha256=oid).first()
    if existing is not None and existing.size == size and s3_staging.staged_size(existing.storage_key) is not None:
        s3_staging.discard(key)  # already verified through another upload
        return _remember(grant)
    stored = s3_staging.staged_size(key)
    if stored is None:
        return "The object was never uploaded to the store: run the upload again."
    if stored != size:
        s3_staging.discard(key)
        return f"The uploaded object has {stored} bytes, not the {size} announced: it was discarded."
    digest = hashlib.sha256()
    git = hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False) if size < LFS_MIN_SIZE else None
    for chunk in s3_staging.read_staged(key):
        digest.update(chunk)
        if git is not None:
            git.update(chunk)
    if digest.hexdigest() != oid:
        s3_staging.discard(key)
        return f"The uploaded object's sha256 is {digest.hexdigest()}, not {oid}: it was discarded."
    final = s3_staging.promote(key, oid)
    Blob.objects.update_or_create(
        sha256=oid,
        defaults={
            "size": size,
            "storage_key": final,
            "created": timezone.now(),
            "git_oid": git.hexdigest() if git is not None else "",
        },
    )
    return _remember(grant)


def _remember(grant: dict) -> str:
    user = get_user_model().objects.filter(pk=grant["u"]).first()
    repo = ModelRepo.objects.filter(pk=grant["r"]).first()
    if user is None or repo is None:
        return "The repository or its uploader is gone."
    remember_upload(user, repo, grant["o"])
    return OK
