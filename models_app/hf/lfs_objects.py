"""Git LFS objects: who may upload one, who may commit one, and receiving its bytes.

The blob store is shared by every repo (content-addressed), so knowing an
object's sha256 must not be enough to use it: a commit may name an LFS object
only if the committer can already read it (a file of a repo they can see) or
uploaded it to this repo themselves. Uploads are remembered in the cache for
``UPLOAD_MEMORY``.

An object that is uploaded but never committed is a blob no revision names:
nothing serves it (every read goes through a revision's manifest), and the
storage sweep (sweep.py) removes it after ``HUB_BLOB_GRACE_HOURS``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache

from hub.api import ApiError
from models_app.models import Blob, ModelRepo, RepoFile
from models_app.publish.uploads import Ingest, StagedFile
from models_app.repos.rules import can_propose, visible_repos
from models_app.storage import get_store
from models_app.storage.retention import keep_alive

SIGNING_SALT = "transferhub.lfs-upload"
# How long an upload link from the batch API stays valid. The client asks for
# up to 256 links at once and then uploads them a few at a time, so on a slow
# line the last PUT can start hours after the batch. A leaked link can only
# deliver the exact bytes whose sha256 and size it names, into the repo it names.
UPLOAD_LINK_MAX_AGE = 6 * 3600
# How long the hub remembers that a user uploaded an object to a repo (so they may commit it).
UPLOAD_MEMORY = 24 * 3600


class LfsError(ApiError):
    """An LFS request the hub refuses."""


def _remember_key(user, repo: ModelRepo, oid: str) -> str:
    return f"lfs-upload:{user.pk}:{repo.pk}:{oid}"


def remember_upload(user, repo: ModelRepo, oid: str) -> None:
    cache.set(_remember_key(user, repo, oid), True, UPLOAD_MEMORY)


def usable_blob(user, repo: ModelRepo, oid: str, size: int | None = None) -> Blob | None:
    """The stored blob ``oid`` if ``user`` may commit it to ``repo``, else None."""
    blob = Blob.objects.filter(sha256=oid).first()
    if blob is None or (size is not None and blob.size != size) or not get_store().exists(blob.storage_key):
        return None
    if not cache.get(_remember_key(user, repo, oid)):
        readable = RepoFile.objects.filter(blob=blob, revision__repo__in=visible_repos(user).values("pk"))
        if not readable.exists():
            return None
    # The client commits it next instead of uploading it: spare it from the storage sweep.
    return blob if keep_alive(blob) else None


def upload_link_token(user, repo: ModelRepo, oid: str, size: int) -> str:
    return signing.dumps({"u": user.pk, "r": repo.pk, "o": oid, "s": size}, salt=SIGNING_SALT)


def upload_grant(token: str, oid: str, *, salt: str = SIGNING_SALT) -> dict:
    """The signed grant in an upload link; 403 when it is forged, expired or for another object."""
    try:
        grant = signing.loads(token, salt=salt, max_age=UPLOAD_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise LfsError("This upload link has expired: run the upload again.", status_code=403) from None
    except signing.BadSignature:
        raise LfsError("This upload link is not valid.", status_code=403) from None
    if grant.get("o") != oid:
        raise LfsError("This upload link is for another object.", status_code=403)
    return grant


@dataclass
class LfsUpload:
    """One LFS PUT being received: ``write`` chunks, then ``finish``; ``abort`` is a no-op after it.

    Push-style so the streaming entry point can feed ``staged`` as batches arrive
    (then it calls ``remember`` itself).
    """

    user: object
    repo: ModelRepo
    oid: str
    staged: StagedFile

    def write(self, chunk: bytes) -> None:
        self.staged.write(chunk)

    def finish(self) -> Blob:
        blob = self.staged.finish()
        self.remember()
        return blob

    def remember(self) -> None:
        """The upload is complete: its uploader may now commit it to this repo."""
        remember_upload(self.user, self.repo, self.oid)

    def abort(self) -> None:
        self.staged.abort()


def upload_open(token: str, oid: str) -> LfsUpload:
    """Check an upload link's grant and open the object in the common ingest (limits checked on the size)."""
    grant = upload_grant(token, oid)
    repo = ModelRepo.objects.select_related("owner").filter(pk=grant["r"]).first()
    user = get_user_model().objects.filter(pk=grant["u"], is_active=True).first()
    # The batch decided who may upload (models_app/hf/commits.py repo_for_lfs); here only that the
    # uploader still sees the repo, so a proposer's link keeps working while a revoked one does not.
    if repo is None or user is None or not can_propose(user, repo):
        raise LfsError("This upload link no longer grants access to the repository.", status_code=403)
    staged = Ingest(repo).open_file(f"LFS object {oid[:12]}", sha256=oid, size=grant["s"])
    return LfsUpload(user, repo, oid, staged)


def upload_receive(token: str, oid: str, chunks: Iterable[bytes]) -> Blob:
    """An LFS PUT from an iterable body (the Django view; a streaming entry point uses ``upload_open``)."""
    upload = upload_open(token, oid)
    try:
        for chunk in chunks:
            upload.write(chunk)
        return upload.finish()
    finally:
        upload.abort()  # no-op after finish: drops the temp file otherwise
