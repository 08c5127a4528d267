"""Revisions: immutable, content-addressed snapshots of a repo, and the refs that name them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from hub.api import ApiError
from models_app.models import Blob, ModelRepo, Ref, RepoFile, Revision
from models_app.repos.cards import CARD_PATH, MAX_CARD_BYTES, Card, blob_text, card_apply, parse_card
from models_app.repos.events import announce_revision
from models_app.repos.paths import PathError, normalize_path
from models_app.repos.quota import commit_quota_check

SHA_RE = re.compile(r"^[0-9a-f]{40}$")
DEFAULT_BRANCH = "main"


class RevisionError(ApiError):
    """A revision request the hub refuses (stale parent, unknown revision, bad path)."""


@dataclass(frozen=True)
class RevisionResult:
    revision: Revision | None
    created: bool  # False: the upload changed nothing, no revision was made
    card_warnings: tuple[str, ...] = ()  # advice about the README.md this revision brought


def revision_sha(parent_sha: str | None, manifest: Mapping[str, str]) -> str:
    """40 hex characters derived from the parent and every (path, blob sha256) pair.

    The same files on the same parent always give the same sha; the parent is
    part of it so that restoring old content is still a new revision.
    """
    digest = hashlib.sha1(usedforsecurity=False)
    digest.update(b"transferhub-revision-v1\n")
    digest.update(f"parent {parent_sha or '-'}\n".encode())
    for path in sorted(manifest):
        digest.update(f"{manifest[path]} {path}\n".encode())
    return digest.hexdigest()


def manifest_of(revision: Revision | None) -> dict[str, str]:
    """``{path: blob sha256}`` of a revision (empty for none)."""
    if revision is None:
        return {}
    return dict(RepoFile.objects.filter(revision=revision).values_list("path", "blob_id"))


def revision_create(
    repo: ModelRepo,
    *,
    author,
    message: str,
    description: str = "",
    add: Mapping[str, Blob] | None = None,
    delete: Iterable[str] = (),
    delete_folders: Iterable[str] = (),
    parent_sha: str | None = None,
    branch: str = DEFAULT_BRANCH,
) -> RevisionResult:
    """Apply ``add``/``delete`` to the tip of ``branch`` in one transaction and move the branch.

    ``parent_sha``, when given, must be the branch's current tip (else 412, as
    the Hugging Face client expects for a stale ``parentCommit``). An upload
    that leaves the manifest unchanged creates nothing.
    """
    # Paths are checked and the card is read before the transaction opens: under
    # SQLite an open write transaction locks the whole database for everyone.
    add = {_clean(raw): blob for raw, blob in (add or {}).items()}
    card_blob = add.get(CARD_PATH)
    card = _read_card(card_blob.sha256, repo.repo_type) if card_blob is not None and branch == DEFAULT_BRANCH else None
    with transaction.atomic():
        # Serialises concurrent commits to one branch (SQLite: the IMMEDIATE transaction does).
        ref = Ref.objects.select_for_update().filter(repo=repo, name=branch).select_related("revision").first()
        if ref is not None and ref.kind != Ref.Kind.BRANCH:
            raise RevisionError(f"'{branch}' is a tag; commits go to branches.", status_code=400)
        parent = ref.revision if ref else None
        if parent_sha and (parent is None or parent.sha != parent_sha):
            raise RevisionError(
                f"The parent commit {parent_sha[:12]} is not the tip of '{branch}' "
                f"({parent.sha[:12] if parent else 'empty'}); pull the latest revision and retry.",
                status_code=412,
            )
        manifest = manifest_of(parent)
        new_manifest = dict(manifest)
        for raw in delete:
            # A file stored before a path rule was added can still be deleted by its exact name.
            path = raw if raw in new_manifest else _clean(raw)
            if path not in new_manifest:
                raise RevisionError(f"{path}: no such file in '{branch}'.", status_code=404, code="EntryNotFound")
            del new_manifest[path]
        for raw in delete_folders:
            folder = _clean(raw.rstrip("/")) + "/"
            doomed = [path for path in new_manifest if path.startswith(folder)]
            if not doomed:
                raise RevisionError(f"{folder}: no such folder in '{branch}'.", status_code=404, code="EntryNotFound")
            for path in doomed:
                del new_manifest[path]
        for path, blob in add.items():
            new_manifest[path] = blob.sha256
        if parent is not None and new_manifest == manifest:
            return RevisionResult(parent, created=False)
        if parent is None and not new_manifest:
            raise RevisionError("Nothing to commit: the upload holds no files.", status_code=400)
        commit_quota_check(repo, add.values())
        card_warnings = _apply_card(repo, branch, manifest, new_manifest, card)
        now = timezone.now()
        revision = Revision.objects.create(
            repo=repo,
            sha=revision_sha(parent.sha if parent else None, new_manifest),
            parent=parent,
            message=(message or "Upload files")[:500],
            description=description,
            author=author,
            token=getattr(author, "acting_token", None),  # set by hub.access.identify for token requests
            created=now,
        )
        RepoFile.objects.bulk_create(
            RepoFile(revision=revision, path=path, blob_id=sha) for path, sha in sorted(new_manifest.items())
        )
        if ref is None:
            Ref.objects.create(repo=repo, name=branch, kind=Ref.Kind.BRANCH, revision=revision)
        else:
            Ref.objects.filter(pk=ref.pk).update(revision=revision)
        ModelRepo.objects.filter(pk=repo.pk).update(updated=now)
        announce_revision(revision, created_by=author)
    return RevisionResult(revision, created=True, card_warnings=card_warnings)


@dataclass(frozen=True)
class _CardRead:
    sha256: str
    card: Card | None  # None: too large to parse


def _read_card(sha256: str | None, repo_type: str) -> _CardRead | None:
    """The README.md a commit brings, read and parsed (callers do it before the transaction)."""
    if sha256 is None:
        return None
    text = blob_text(sha256)
    return _CardRead(sha256, parse_card(text, repo_type=repo_type) if text is not None else None)


def _apply_card(
    repo: ModelRepo, branch: str, old: Mapping[str, str], new: Mapping[str, str], read: _CardRead | None
) -> tuple[str, ...]:
    """Put a new or changed README.md on the default branch into the repo row (same transaction).

    A card with errors (bad YAML, unknown license or task) refuses the commit
    with 422, as the Hugging Face hub does, so the repo row never disagrees
    with the card on ``main``.
    """
    if branch != DEFAULT_BRANCH or old.get(CARD_PATH) == new.get(CARD_PATH):
        return ()
    sha = new.get(CARD_PATH)
    if sha is None:
        card_apply(repo, None)
        return ()
    if read is None or read.sha256 != sha:  # a changed README.md comes from ``add``: read already
        read = _read_card(sha, repo.repo_type)
    card = read.card
    if card is None:
        return (f"{CARD_PATH} is larger than {MAX_CARD_BYTES // 1024} KiB; its metadata was not read.",)
    if card.errors:
        raise RevisionError(
            f"{CARD_PATH}: the model card's metadata is invalid: {' '.join(card.errors)}",
            status_code=422,
            detail={"errors": card.errors, "warnings": card.warnings},
        )
    card_apply(repo, card)
    return tuple(card.warnings)


def _clean(raw: str) -> str:
    try:
        return normalize_path(raw)
    except PathError as exc:
        raise RevisionError(str(exc), status_code=400) from None


def resolve_revision(repo: ModelRepo, rev: str | None) -> Revision:
    """A branch, a tag or a full 40-hex sha -> the Revision; RevisionNotFound (404) otherwise."""
    rev = rev or DEFAULT_BRANCH
    ref = Ref.objects.filter(repo=repo, name=rev).select_related("revision").first()
    if ref is not None:
        return ref.revision
    if SHA_RE.match(rev):
        revision = Revision.objects.filter(repo=repo, sha=rev).first()
        if revision is not None:
            return revision
    raise RevisionError(
        f"Invalid rev id: {rev}" if rev != DEFAULT_BRANCH else f"{repo.repo_id} has no revision yet.",
        status_code=404,
        code="RevisionNotFound",
    )


def tag_create(repo: ModelRepo, tag: str, revision: Revision, message: str = "") -> Ref:
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", tag) or SHA_RE.match(tag):
        raise RevisionError(f"'{tag}' is not a valid tag name.", status_code=400)
    if Ref.objects.filter(repo=repo, name=tag).exists():
        raise RevisionError(f"Tag '{tag}' already exists.", status_code=409)
    return Ref.objects.create(repo=repo, name=tag, kind=Ref.Kind.TAG, revision=revision, message=message[:500])


@dataclass(frozen=True)
class Change:
    path: str
    kind: str  # added | modified | deleted
    sha256: str


def manifest_changes(old: Mapping[str, str], new: Mapping[str, str]) -> list[Change]:
    """What a revision changed against its parent, by path."""
    changes = [
        Change(path, "added" if path not in old else "modified", sha)
        for path, sha in new.items()
        if old.get(path) != sha
    ]
    changes += [Change(path, "deleted", sha) for path, sha in old.items() if path not in new]
    return sorted(changes, key=lambda change: change.path)
