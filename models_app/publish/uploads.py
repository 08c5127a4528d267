"""Streaming ingest: bytes in, content-addressed blobs out, every limit checked on the way.

Each file is written in chunks to a temp file on the store's filesystem while
it is hashed (sha256) and counted. Size and quota limits are checked as each
chunk arrives, so an oversized upload is refused before its body is stored. A
digest the client sent is compared at the end, then the temp file is renamed
into the blob store in one atomic step. Nothing is visible until
``revisions.revision_create`` commits a manifest that names the blobs; a failed
upload leaves at most a temp file, which ``cleanup_uploads`` removes.

Every upload path (website, native API, LFS, Xet) goes through ``Ingest``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from hub.api import ApiError
from models_app.models import Blob, ModelRepo
from models_app.publish.diskwrite import Fanout, Lane, close_file, each
from models_app.repos.blobs import git_oid_of_file
from models_app.repos.paths import PathError, normalize_path
from models_app.repos.quota import human_size, owner_remaining, quota_message, repo_usage, whose_quota
from models_app.storage import get_store
from models_app.storage.retention import keep_alive

# Once a file has reached this size, it is hashed on one thread and written on another (two
# diskwrite.Lane) while the caller parses the next chunk; smaller files are not worth the threads.
OVERLAP_BYTES = 128 * 1024


class UploadError(ApiError):
    """An upload the hub refuses; nothing of it is kept."""


def quota_exceeded(what: str, whose: str, remaining: int, added: int | None = None, then: str = "") -> UploadError:
    """The 413 for ``what`` ("x.bin: this upload", "This commit") going past ``whose`` quota."""
    return UploadError(quota_message(what, whose, remaining, added, then), status_code=413)


@dataclass
class Limits:
    max_file_size: int
    max_files: int
    repo_remaining: int
    user_remaining: int
    whose: str = "your"

    @classmethod
    def for_repo(cls, repo: ModelRepo) -> Limits:
        return cls(
            max_file_size=settings.HUB_MAX_FILE_SIZE,
            max_files=settings.HUB_MAX_FILES_PER_COMMIT,
            repo_remaining=settings.HUB_REPO_QUOTA - repo_usage(repo),
            user_remaining=owner_remaining(repo.owner),
            whose=whose_quota(repo.owner),
        )


@dataclass
class StagedFile:
    """One file being received. ``write`` chunks, then ``finish``; ``abort`` on any failure."""

    ingest: Ingest
    path: str
    expected_sha256: str | None = None
    expected_size: int | None = None
    size: int = 0
    blob: Blob | None = None
    _hash: hashlib._Hash = field(default_factory=hashlib.sha256)
    _temp_path: Path | None = None
    _file: object = None
    _lanes: Fanout | None = None

    def __post_init__(self) -> None:
        if self.expected_size is not None:
            self._check_size(self.expected_size)  # refuse before reading a byte when the size is announced
        handle = get_store().temp_file()
        self._file, self._temp_path = handle, Path(handle.name)

    def _check_size(self, size: int) -> None:
        limits = self.ingest.limits
        if size > limits.max_file_size:
            raise UploadError(
                f"{self.path}: file is larger than the {human_size(limits.max_file_size)} limit per file.",
                status_code=413,
            )
        total = self.ingest.received + size
        if total > limits.repo_remaining:
            raise quota_exceeded(f"{self.path}: this upload", "the repository's", limits.repo_remaining)
        if total > limits.user_remaining:
            raise quota_exceeded(f"{self.path}: this upload", limits.whose, limits.user_remaining)

    def write(self, chunk: bytes | memoryview) -> None:
        self._check_size(self.size + len(chunk))
        self.size += len(chunk)
        if self._lanes is None and self.size >= OVERLAP_BYTES:
            self._lanes = Fanout(
                (Lane(each(self._hash.update), "blob-hash"), Lane(each(self._file.write), "blob-write"))
            )
        if self._lanes is None:
            self._hash.update(chunk)
            self._file.write(chunk)
        else:
            self._lanes.add(chunk)

    def _close_file(self, *, keep: bool) -> None:
        lanes, self._lanes = self._lanes, None
        close_file(self._file, lanes, keep=keep)

    def finish(self) -> Blob:
        try:
            self._close_file(keep=True)
        except BaseException:
            self.abort()
            raise
        digest = self._hash.hexdigest()
        if self.expected_size is not None and self.size != self.expected_size:
            self.abort()
            raise UploadError(
                f"{self.path}: received {self.size} bytes, expected {self.expected_size}.", status_code=400
            )
        if self.expected_sha256 and self.expected_sha256.lower() != digest:
            self.abort()
            raise UploadError(
                f"{self.path}: sha256 mismatch (sent {self.expected_sha256}, received {digest}).", status_code=422
            )
        store = get_store()
        existing = Blob.objects.filter(sha256=digest).first()
        # The git object id is taken now, while the bytes are at hand, so reads never fetch a blob for it.
        known = existing.git_oid if existing is not None else ""
        git_oid = known or git_oid_of_file(self._temp_path, self.size)
        if existing is not None and store.exists(existing.storage_key) and keep_alive(existing):
            os.unlink(self._temp_path)
            if git_oid != known:  # a blob stored before git ids were kept
                Blob.objects.filter(pk=existing.pk).update(git_oid=git_oid)
                existing.git_oid = git_oid
            self.blob = existing
        else:
            key = store.accept(self._temp_path, digest)
            self.blob, _ = Blob.objects.update_or_create(
                sha256=digest,
                defaults={"size": self.size, "storage_key": key, "created": timezone.now(), "git_oid": git_oid},
            )
        self._temp_path = None
        self.ingest.received += self.size
        self.ingest.files[self.path] = self.blob
        self.ingest._forget(self)
        return self.blob

    def abort(self) -> None:
        try:
            self._close_file(keep=False)
        except Exception:  # noqa: BLE001,S110 - best effort on an already failing path
            pass
        if self._temp_path is not None:
            try:
                os.unlink(self._temp_path)
            except FileNotFoundError:
                pass
            self._temp_path = None
        self.ingest._forget(self)


class Ingest:
    """The files of one commit: paths checked, limits shared across files."""

    def __init__(self, repo: ModelRepo, *, limits: Limits | None = None):
        self.repo = repo
        self.limits = limits or Limits.for_repo(repo)
        self.files: dict[str, Blob] = {}
        self.received = 0
        self._open: list[StagedFile] = []

    def open_file(self, raw_path: str, *, sha256: str | None = None, size: int | None = None) -> StagedFile:
        try:
            path = normalize_path(raw_path)
        except PathError as exc:
            raise UploadError(str(exc), status_code=400) from None
        if path in self.files or any(staged.path == path for staged in self._open):
            raise UploadError(f"{path}: the same path appears twice in one upload.", status_code=400)
        if len(self.files) + len(self._open) >= self.limits.max_files:
            raise UploadError(f"An upload may hold at most {self.limits.max_files} files.", status_code=413)
        if sha256 is not None and (len(sha256) != 64 or any(c not in "0123456789abcdefABCDEF" for c in sha256)):
            raise UploadError(f"{path}: sha256 must be 64 hex characters.", status_code=400)
        staged = StagedFile(self, path, expected_sha256=sha256, expected_size=size)
        self._open.append(staged)
        return staged

    def add(
        self, raw_path: str, chunks: Iterable[bytes], *, sha256: str | None = None, size: int | None = None
    ) -> Blob:
        """Receive one whole file from an iterable of chunks."""
        staged = self.open_file(raw_path, sha256=sha256, size=size)
        try:
            for chunk in chunks:
                staged.write(chunk)
            blob = staged.finish()
        except BaseException:
            staged.abort()
            raise
        return blob

    def _forget(self, staged: StagedFile) -> None:
        """A file is finished or aborted: it no longer counts as open (push-style callers use this)."""
        self._open = [other for other in self._open if other is not staged]

    def abort(self) -> None:
        """Drop every file still being received (finished blobs stay: they are unreferenced, not visible)."""
        for staged in list(self._open):
            staged.abort()
        self._open.clear()


def iter_file(handle, chunk_size: int = 1024 * 1024) -> Iterable[bytes]:
    while chunk := handle.read(chunk_size):
        yield chunk
