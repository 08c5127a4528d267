"""The Hugging Face write protocol's rules: upload modes, and applying an ndjson commit.

The client asks ``preupload`` how each file travels: ``regular`` files come
base64-encoded inside the commit body, ``lfs`` files are PUT beforehand through
the LFS batch API (``models_app/hf/lfs.py``) and the commit names them by sha256.
Both end up as the same kind of blob: regular files go through ``Ingest`` here,
LFS objects went through ``Ingest`` when they were PUT.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings

from hub import jsonbody
from hub.api import ApiError
from models_app.bounds import MAX_COMMIT_OPERATIONS, MAX_PREUPLOAD_FILES, check_count
from models_app.hf import lfs_objects
from models_app.models import Blob, ModelRepo, Ref, RepoFile, Revision
from models_app.publish.uploads import Ingest, UploadError
from models_app.repos.paths import PathError, normalize_path
from models_app.repos.quota import human_size
from models_app.repos.revisions import DEFAULT_BRANCH, SHA_RE, RevisionError, RevisionResult, revision_create
from models_app.repos.rules import MODEL, can_write, find_visible_repo
from models_app.storage import get_store

# Files from this size up travel through LFS, which keeps every regular file small enough
# to sit base64-encoded on one ndjson line of the commit.
REGULAR_MAX_SIZE = 10 * 1024 * 1024
# One ndjson line: a regular file base64-encoded (4/3 of its size) plus its JSON wrapping.
MAX_COMMIT_LINE = REGULAR_MAX_SIZE * 4 // 3 + 64 * 1024
# Weights and other binary formats go through LFS whatever their size (streamed PUT, not base64).
LFS_SUFFIXES = (
    ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".onnx", ".msgpack", ".gguf", ".npy", ".npz",
    ".tflite", ".pb", ".ot", ".model", ".pkl", ".joblib", ".zip", ".tar", ".gz", ".arrow", ".parquet",
)  # fmt: skip
OID_RE = re.compile(r"^[0-9a-f]{64}$")


def hub_base_url(request) -> str:
    """The public base URL for links the API returns (``HUB_SITE_URL``, else the request's host)."""
    return (settings.SITE_URL or request.build_absolute_uri("/")).rstrip("/")


def repo_for_write(user, owner: str, name: str, repo_type: str = MODEL) -> ModelRepo:
    """``owner/name`` if ``user`` may write to it: 404 (RepoNotFound) when they cannot see it, else 403."""
    repo = find_visible_repo(user, owner, name, repo_type)
    if repo is None:
        raise ApiError(f"Repository {owner}/{name} not found.", status_code=404, code="RepoNotFound")
    if not can_write(user, repo):
        raise ApiError(f"You cannot write to {repo.repo_id}: only its owner can.", status_code=403)
    return repo


def refuse_pull_requests(create_pr: str | None) -> None:
    if create_pr and create_pr.lower() not in ("0", "false"):
        raise ApiError(
            "Pull requests are not supported by this hub yet: commit to the branch directly (drop create_pr).",
            status_code=400,
        )


def upload_mode(path: str, size: int, sample: bytes) -> str:
    """``lfs`` for large, binary-looking or weight files; ``regular`` for small text files."""
    if size >= REGULAR_MAX_SIZE or path.lower().endswith(LFS_SUFFIXES) or b"\x00" in sample:
        return "lfs"
    return "regular"


def git_blob_sha1(data: bytes) -> str:
    """The git object id of ``data``: what the client compares a regular file's ``oid`` with."""
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(f"blob {len(data)}\0".encode())
    digest.update(data)
    return digest.hexdigest()


def branch_tip(repo: ModelRepo, rev: str) -> Revision | None:
    """The revision ``rev`` (a branch) points at; None for the empty default branch; 404 otherwise."""
    ref = Ref.objects.filter(repo=repo, name=rev).select_related("revision").first()
    if ref is not None:
        if ref.kind != Ref.Kind.BRANCH:
            raise RevisionError(f"'{rev}' is a tag; uploads go to branches.", status_code=400)
        return ref.revision
    if rev == DEFAULT_BRANCH:
        return None
    raise RevisionError(
        f"Invalid rev id: {rev} (uploads go to an existing branch, or to '{DEFAULT_BRANCH}').",
        status_code=404,
        code="RevisionNotFound",
    )


def preupload_answer(repo: ModelRepo, tip: Revision | None, files: Any) -> list[dict]:
    """``[{path, uploadMode, shouldIgnore, oid}]`` for the client's ``[{path, sample, size}]``.

    ``oid`` is the current file's id in the client's terms (sha256 for LFS,
    git sha1 for regular files), so an unchanged file is not sent again. It is
    computed only when the size matches: a different size is a changed file.
    Nothing is ignored: the hub keeps exactly what is committed.
    """
    if not isinstance(files, list):
        raise ApiError("'files' must be a list of {path, sample, size}.", status_code=400)
    check_count(len(files), MAX_PREUPLOAD_FILES, "files")
    current = {}
    if tip is not None:
        rows = RepoFile.objects.filter(revision=tip).select_related("blob")
        current = {row.path: row.blob for row in rows}
    answer = []
    for item in files:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise ApiError("Each file must be an object with a 'path'.", status_code=400)
        path, size = item["path"], item.get("size")
        if not isinstance(size, int) or size < 0:
            raise ApiError(f"{path}: 'size' must be a non-negative integer.", status_code=400)
        try:
            path = normalize_path(path)
        except PathError as exc:
            raise ApiError(str(exc), status_code=400) from None  # the message quotes the path safely
        try:
            sample = base64.b64decode(_text(item.get("sample")), validate=True)[:512]
        except (binascii.Error, ValueError) as exc:
            raise ApiError(f"{path}: 'sample' is not base64 ({exc}).", status_code=400) from None
        mode = upload_mode(path, size, sample)
        blob = current.get(path)
        oid = None
        if blob is not None and blob.size == size:
            oid = blob.sha256 if mode == "lfs" else _regular_oid(blob)
        answer.append({"path": item["path"], "uploadMode": mode, "shouldIgnore": False, "oid": oid})
    return answer


def _text(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("base64 content must be a string")
    return value


def _regular_oid(blob: Blob) -> str | None:
    if blob.size >= REGULAR_MAX_SIZE:
        return None
    with get_store().open(blob.storage_key) as handle:
        return git_blob_sha1(handle.read())


def ndjson_lines(readline, max_line: int = MAX_COMMIT_LINE) -> Iterator[dict]:
    """Parse a commit body one line at a time; a line may not exceed ``max_line`` bytes."""
    number = 0
    while line := readline(max_line + 1):
        number += 1
        if len(line) > max_line:
            raise ApiError(
                f"Commit line {number} is larger than {max_line} bytes; files from "
                f"{REGULAR_MAX_SIZE // 2**20} MiB up must be uploaded through LFS.",
                status_code=413,
            )
        if not line.strip():
            continue
        try:
            item = jsonbody.loads(line)  # raises ParseError (400) for NUL or deep nesting
        except ValueError:
            raise ApiError(f"Commit line {number} is not valid JSON.", status_code=400) from None
        if not isinstance(item, dict) or not isinstance(item.get("value"), dict):
            raise ApiError(f'Commit line {number} must be {{"key": ..., "value": {{...}}}}.', status_code=400)
        yield item


def hf_commit(repo: ModelRepo, user, rev: str, items: Iterable[dict]) -> RevisionResult:
    """Apply the client's commit operations to branch ``rev`` (header first, then files and deletions)."""
    items = iter(items)
    header = next(items, None)
    if header is None or header.get("key") != "header":
        raise ApiError("A commit starts with a 'header' line.", status_code=400)
    summary = str(header["value"].get("summary") or "")
    description = str(header["value"].get("description") or "")
    parent = header["value"].get("parentCommit")
    if parent is not None and (not isinstance(parent, str) or not SHA_RE.match(parent)):
        raise ApiError("parentCommit must be a 40-character lowercase hex commit id.", status_code=400)
    branch_tip(repo, rev)  # 404 for an unknown branch before any byte is stored
    ingest = Ingest(repo)
    add: dict[str, Blob] = {}
    lfs_blobs: dict[str, Blob] = {}
    delete: list[str] = []
    delete_folders: list[str] = []
    try:
        for count, item in enumerate(items, 1):
            check_count(count, MAX_COMMIT_OPERATIONS, "commit operations")
            key, value = item.get("key"), item["value"]
            path = value.get("path")
            if not isinstance(path, str):
                raise ApiError(f"Each {str(key)[:40]!r} line needs a 'path'.", status_code=400)
            # The path is checked first, so that later messages quote only a clean path.
            if key == "file":
                clean = _fresh(path, add)
                add[clean] = _regular_file(ingest, clean, value)
            elif key == "lfsFile":
                clean = _fresh(path, add)
                add[clean] = lfs_blobs[clean] = _lfs_file(repo, user, clean, value)
            elif key == "deletedFile":
                delete.append(path)
            elif key == "deletedFolder":
                delete_folders.append(path)
            else:
                raise ApiError(f"Unknown commit operation {str(key)[:40]!r}.", status_code=400)
            if len(add) > ingest.limits.max_files:
                raise UploadError(f"An upload may hold at most {ingest.limits.max_files} files.", status_code=413)
        _check_quota(repo, ingest, lfs_blobs.values())
    finally:
        ingest.abort()
    return revision_create(
        repo,
        author=user,
        message=summary,
        description=description,
        add=add,
        delete=delete,
        delete_folders=delete_folders,
        parent_sha=parent,
        branch=rev,
    )


def _check_quota(repo: ModelRepo, ingest: Ingest, lfs_blobs: Iterable[Blob]) -> None:
    """Count LFS objects new to the repo (and to its owner) against the quotas.

    Each PUT was checked on its own; without this, many objects uploaded one by
    one could together pass the quota in one commit.
    """
    sizes = {blob.sha256: blob.size for blob in lfs_blobs}
    if not sizes:
        return
    named = RepoFile.objects.filter(blob_id__in=list(sizes))
    in_repo = set(named.filter(revision__repo=repo).values_list("blob_id", flat=True))
    in_user = set(named.filter(revision__repo__owner_id=repo.owner_id).values_list("blob_id", flat=True))
    limits = ingest.limits
    for known, remaining, whose in (
        (in_repo, limits.repo_remaining, "the repository's"),
        (in_user, limits.user_remaining, "your"),
    ):
        total = ingest.received + sum(size for sha, size in sizes.items() if sha not in known)
        if total > remaining:
            raise UploadError(
                f"This commit would exceed {whose} storage quota ({human_size(max(remaining, 0))} left).",
                status_code=413,
            )


def _fresh(path: str, add: dict) -> str:
    try:
        clean = normalize_path(path)
    except PathError as exc:
        raise UploadError(str(exc), status_code=400) from None
    if clean in add:
        raise UploadError(f"{clean}: the same path appears twice in one commit.", status_code=400)
    return clean


def _regular_file(ingest: Ingest, path: str, value: dict) -> Blob:
    if value.get("encoding", "base64") != "base64":
        raise ApiError(f"{path}: only base64-encoded file content is accepted.", status_code=400)
    try:
        content = base64.b64decode(_text(value.get("content")), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(f"{path}: the content is not valid base64.", status_code=400) from None
    return ingest.add(path, [content], size=len(content))


def _lfs_file(repo: ModelRepo, user, path: str, value: dict) -> Blob:
    oid, size = value.get("oid"), value.get("size")
    if value.get("algo", "sha256") != "sha256" or not isinstance(oid, str) or not OID_RE.match(oid):
        raise ApiError(f"{path}: an lfsFile names its content by a lowercase sha256 'oid'.", status_code=400)
    if size is not None and (not isinstance(size, int) or size < 0):
        raise ApiError(f"{path}: 'size' must be a non-negative integer.", status_code=400)
    blob = lfs_objects.usable_blob(user, repo, oid, size)
    if blob is None:
        raise ApiError(
            f"{path}: the LFS object {oid} ({size} bytes) was not uploaded to {repo.repo_id}; "
            "upload it through the LFS batch API first.",
            status_code=422,
        )
    return blob
