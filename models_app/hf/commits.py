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
import dataclasses
import re
from collections.abc import Iterable, Iterator
from typing import Any

import pathspec
from django.conf import settings

from hub import jsonbody
from hub.api import ApiError
from models_app.bounds import MAX_COMMIT_OPERATIONS, MAX_PREUPLOAD_FILES, check_count
from models_app.hf import lfs_objects
from models_app.models import Blob, ModelRepo, RepoFile, Revision
from models_app.publish.uploads import Ingest, UploadError
from models_app.repos.blobs import LFS_MIN_SIZE, blob_git_oid, is_lfs
from models_app.repos.events import announce_pull_request
from models_app.repos.paths import PathError, normalize_path
from models_app.repos.quota import human_size
from models_app.repos.revisions import (
    DEFAULT_BRANCH,
    SHA_RE,
    RevisionError,
    RevisionResult,
    pr_open,
    revision_create,
    writable_refs,
)
from models_app.repos.rules import MODEL, can_commit_to, can_propose, can_write, find_visible_repo
from models_app.storage import get_store

# Files from this size up travel through LFS (and weights whatever their size: a streamed PUT, not base64),
# which keeps every regular file small enough to sit base64-encoded on one ndjson line of the commit.
REGULAR_MAX_SIZE = LFS_MIN_SIZE
# One ndjson line: a regular file base64-encoded (4/3 of its size) plus its JSON wrapping.
MAX_COMMIT_LINE = REGULAR_MAX_SIZE * 4 // 3 + 64 * 1024
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


def repo_for_lfs(user, owner: str, name: str, repo_type: str = MODEL, ref: str | None = None) -> ModelRepo:
    """The repo an LFS upload goes to. Writers may always upload; others who may propose a change
    when the client names no branch (``create_commit(create_pr=True)`` sends none, so that users who
    only read can open pull requests, as on the HF hub) or names a pull request they may commit to.
    The commit that uses the objects is checked on its own (``repo_for_commit``)."""
    repo = find_visible_repo(user, owner, name, repo_type)
    if repo is None:
        raise ApiError(f"Repository {owner}/{name} not found.", status_code=404, code="RepoNotFound")
    if can_write(user, repo):
        return repo
    if (ref is None and can_propose(user, repo)) or (ref is not None and can_commit_to(user, repo, ref)):
        return repo
    raise ApiError(f"You cannot write to {repo.repo_id}: open a pull request instead.", status_code=403)


def wants_pr(create_pr: str | None) -> bool:
    return bool(create_pr) and create_pr.lower() not in ("0", "false")


def repo_for_commit(user, owner: str, name: str, repo_type: str, create_pr: bool, rev: str = "main") -> ModelRepo:
    """The repo a commit goes to. Opening a pull request needs only to see a repo (any signed-in user
    may propose a change, as on the HF hub); committing to a branch needs write access, and to an
    open PR's refs/pr/N write access or being the one who opened it."""
    repo = find_visible_repo(user, owner, name, repo_type)
    if repo is None:
        raise ApiError(f"Repository {owner}/{name} not found.", status_code=404, code="RepoNotFound")
    if not create_pr and not can_commit_to(user, repo, rev):
        raise ApiError(f"You cannot write to {repo.repo_id}: only its owner can.", status_code=403)
    return repo


def upload_mode(path: str, size: int, sample: bytes) -> str:
    """``lfs`` for large, binary-looking or weight files; ``regular`` for small text files."""
    if is_lfs(path, size) or b"\x00" in sample:
        return "lfs"
    return "regular"


def branch_tip(repo: ModelRepo, rev: str) -> Revision | None:
    """The revision branch (or ``refs/pr/N``) ``rev`` points at; None for an empty default branch; else 404."""
    ref = writable_refs(repo, rev).select_related("revision").first()
    if ref is not None:
        return ref.revision
    if rev == DEFAULT_BRANCH:
        return None
    raise RevisionError(
        f"Invalid rev id: {rev} (uploads go to an existing branch: create it first with create_branch).",
        status_code=404,
        code="RevisionNotFound",
    )


MAX_GITIGNORE = 1024 * 1024


def ignore_rules(tip: Revision | None, sent: Any) -> pathspec.GitIgnoreSpec | None:
    """The ``.gitignore`` that applies: the one the client sent (``gitIgnore``), else the branch's own."""
    if sent is not None and not isinstance(sent, str):
        raise ApiError("'gitIgnore' must be the text of a .gitignore file.", status_code=400)
    text = sent
    if text is None and tip is not None:
        row = RepoFile.objects.filter(revision=tip, path=".gitignore").select_related("blob").first()
        if row is not None and row.blob.size <= MAX_GITIGNORE:
            with get_store().open(row.blob.storage_key) as handle:
                text = handle.read().decode("utf-8", errors="replace")
    if not text:
        return None
    if len(text) > MAX_GITIGNORE:
        raise ApiError(f"'gitIgnore' is larger than {MAX_GITIGNORE // 1024} KiB.", status_code=400)
    return pathspec.GitIgnoreSpec.from_lines(text.splitlines())


def preupload_answer(repo: ModelRepo, tip: Revision | None, files: Any, gitignore: Any = None) -> list[dict]:
    """``[{path, uploadMode, shouldIgnore, oid}]`` for the client's ``[{path, sample, size}]``.

    ``oid`` is the current file's id in the client's terms (sha256 for LFS,
    git sha1 for regular files), so an unchanged file is not sent again. It is
    computed only when the size matches: a different size is a changed file.
    ``shouldIgnore`` applies the ``.gitignore`` rules (the client then leaves the file out).
    """
    if not isinstance(files, list):
        raise ApiError("'files' must be a list of {path, sample, size}.", status_code=400)
    check_count(len(files), MAX_PREUPLOAD_FILES, "files")
    rules = ignore_rules(tip, gitignore)
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
            raise ApiError(str(exc), status_code=422) from None  # 422 as the HF hub; the message quotes it safely
        try:
            sample = base64.b64decode(_text(item.get("sample")), validate=True)[:512]
        except (binascii.Error, ValueError) as exc:
            raise ApiError(f"{path}: 'sample' is not base64 ({exc}).", status_code=400) from None
        mode = upload_mode(path, size, sample)
        blob = current.get(path)
        oid = None
        if blob is not None and blob.size == size:
            oid = blob.sha256 if mode == "lfs" else blob_git_oid(blob)
        ignored = rules is not None and rules.match_file(path)
        answer.append({"path": item["path"], "uploadMode": mode, "shouldIgnore": ignored, "oid": oid})
    return answer


def _text(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("base64 content must be a string")
    return value


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


def hf_commit(repo: ModelRepo, user, rev: str, items: Iterable[dict], *, create_pr: bool = False) -> RevisionResult:
    """Apply the client's commit operations to branch ``rev`` (header first, then files and deletions).

    With ``create_pr`` the commit goes to a new pull request ``refs/pr/N`` opened from ``rev``
    once every file has arrived (a refused upload opens nothing); the result's ``pr`` names it.
    """
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
    pr = pr_open(repo, rev, author=user) if create_pr else None
    target = f"refs/pr/{pr.name}" if pr is not None else rev
    try:
        result = revision_create(
            repo,
            author=user,
            message=summary,
            description=description,
            add=add,
            delete=delete,
            delete_folders=delete_folders,
            parent_sha=None if pr is not None else parent,
            branch=target,
            allow_empty=pr is not None,
        )
    except BaseException:
        # The commit was refused (a quota, a bad card, a missing file to delete): the pull request it
        # would have opened goes too, rather than stay behind empty. Not one transaction with the
        # commit, as revision_create reads the card before it opens its own (SQLite locks on write).
        if pr is not None:
            pr.delete()
        raise
    if pr is None:
        return result
    # The hub's answer: the PR's title is the commit summary, its description the commit's (discussions
    # makes it a thread of the model's room).
    announce_pull_request(
        repo=repo, number=int(pr.name), base=pr.revision, head=result.revision,
        target=rev.removeprefix("refs/heads/"), author=user, title=summary, description=description, draft=False,
    )  # fmt: skip
    return dataclasses.replace(result, pr=int(pr.name))


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
        raise UploadError(str(exc), status_code=422) from None  # 422, as the HF hub answers a bad path
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
