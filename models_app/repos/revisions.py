"""Revisions: immutable, content-addressed snapshots of a repo, and the refs that name them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from hub.api import ApiError
from models_app.models import Blob, ModelRepo, Ref, RepoFile, Revision
from models_app.repos.cards import CARD_PATH, MAX_CARD_BYTES, Card, blob_text, card_apply, parse_card
from models_app.repos.events import announce_pull_request_commit, announce_revision
from models_app.repos.paths import PathError, normalize_path
from models_app.repos.quota import commit_quota_check

SHA_RE = re.compile(r"^[0-9a-f]{40}$")
SHORT_SHA_RE = re.compile(r"^[0-9a-f]{7,39}$")
DEFAULT_BRANCH = "main"


class RevisionError(ApiError):
    """A revision request the hub refuses (stale parent, unknown revision, bad path)."""


@dataclass(frozen=True)
class RevisionResult:
    revision: Revision | None
    created: bool  # False: the upload changed nothing, no revision was made
    card_warnings: tuple[str, ...] = ()  # advice about the README.md this revision brought
    pr: int | None = None  # the pull request the commit opened (refs/pr/<pr>)


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
    announce: bool = True,
    allow_empty: bool = False,
    hub_made: bool = False,
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
        ref = writable_refs(repo, branch).select_for_update().select_related("revision").first()
        if ref is None and branch != DEFAULT_BRANCH:
            raise RevisionError(f"Invalid rev id: {branch} (commits go to an existing branch).", status_code=404,
                                code="RevisionNotFound")  # fmt: skip
        parent = ref.revision if ref else None
        if parent_sha and (parent is None or parent.sha != parent_sha):
            # The first sentence is the HF hub's; huggingface_hub's tests look for it.
            raise RevisionError(
                "The branch was updated since you opened this page. Please refresh and try again. "
                f"(The parent commit {parent_sha[:12]} is not the tip of '{branch}', "
                f"{parent.sha[:12] if parent else 'empty'}.)",
                status_code=412,
            )
        manifest = manifest_of(parent)
        new_manifest = dict(manifest)
        for raw in delete:
            # A file stored before a path rule was added can still be deleted by its exact name.
            path = raw if raw in new_manifest else _clean(raw)
            if path in new_manifest:
                del new_manifest[path]
                continue
            # A deletedFile that names a folder deletes the folder, as the HF hub does.
            doomed = [name for name in new_manifest if name.startswith(path + "/")]
            if not doomed:
                raise RevisionError(f"{path}: no such file in '{branch}'.", status_code=404, code="EntryNotFound")
            for name in doomed:
                del new_manifest[name]
        for raw in delete_folders:
            folder = _clean(raw.rstrip("/")) + "/"
            doomed = [path for path in new_manifest if path.startswith(folder)]
            if not doomed:
                raise RevisionError(f"{folder}: no such folder in '{branch}'.", status_code=404, code="EntryNotFound")
            for path in doomed:
                del new_manifest[path]
        for path, blob in add.items():
            new_manifest[path] = blob.sha256
        if parent is not None and new_manifest == manifest and not allow_empty:
            return RevisionResult(parent, created=False)
        if parent is None and not new_manifest:
            raise RevisionError("Nothing to commit: the upload holds no files.", status_code=400)
        if not hub_made:  # the hub's own files (a new repo's .gitattributes) count against nobody's quota
            commit_quota_check(repo, add.values())
        card_warnings = _apply_card(repo, branch, manifest, new_manifest, card)
        now = timezone.now()
        sha = revision_sha(parent.sha if parent else None, new_manifest)
        # The same files on the same parent are the same revision: two branches (or pull requests)
        # that make the same change share it, and nothing new is announced.
        revision = Revision.objects.filter(repo=repo, sha=sha).first()
        if revision is not None:
            announce = False
        else:
            revision = Revision.objects.create(
                repo=repo,
                sha=sha,
                parent=parent,
                message=(message or "Upload files")[:500],
                description=description,
                author=author,
                token=getattr(author, "acting_token", None),  # set by hub.access.identify for token requests
                created=now,
            )
            RepoFile.objects.bulk_create(
                RepoFile(revision=revision, path=path, blob_id=blob) for path, blob in sorted(new_manifest.items())
            )
        if ref is None:  # an older repo's first commit: main did not exist yet
            Ref.objects.create(repo=repo, name=branch, kind=Ref.Kind.BRANCH, revision=revision)
        else:
            Ref.objects.filter(pk=ref.pk).update(revision=revision)
            if ref.kind == Ref.Kind.PR and revision.pk != ref.revision_id:
                # The pull request's thread gets a "commit" event (discussions, through a signal).
                announce_pull_request_commit(repo=repo, number=int(ref.name), revision=revision, author=author)
        ModelRepo.objects.filter(pk=repo.pk).update(updated=now)
        if announce:
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


def branches(repo: ModelRepo):
    return Ref.objects.filter(repo=repo, kind=Ref.Kind.BRANCH)


PR_REF_RE = re.compile(r"^refs/pr/([1-9][0-9]{0,8})$")


def writable_refs(repo: ModelRepo, name: str):
    """The ref a commit to ``name`` moves: a branch (``x`` or ``refs/heads/x``) or a pull request (``refs/pr/N``)."""
    if match := PR_REF_RE.match(name):
        return Ref.objects.filter(repo=repo, kind=Ref.Kind.PR, name=match[1])
    return branches(repo).filter(name=name.removeprefix("refs/heads/"))


def next_discussion_num(repo: ModelRepo) -> int:
    """The next discussion or pull request number of ``repo`` (one number space for both, as on the HF hub).

    Taken under a lock on the repo row, so two threads opened at once get two numbers. Call it inside
    the transaction that creates the thread or the ref: a rolled-back one gives its number back.
    """
    with transaction.atomic():
        locked = ModelRepo.objects.select_for_update().only("pk", "last_discussion_num").get(pk=repo.pk)
        locked.last_discussion_num += 1
        ModelRepo.objects.filter(pk=repo.pk).update(last_discussion_num=locked.last_discussion_num)
        return locked.last_discussion_num


def pr_open(repo: ModelRepo, base: str, author=None) -> Ref:
    """A new pull request ref ``refs/pr/N`` at the tip of branch ``base``; N is the repo's next discussion number."""
    with transaction.atomic():
        start = branches(repo).filter(name=base.removeprefix("refs/heads/")).select_related("revision").first()
        if start is None:
            raise RevisionError(f"Invalid rev id: {base}", status_code=404, code="RevisionNotFound")
        number = next_discussion_num(repo)
        return Ref.objects.create(
            repo=repo, name=str(number), kind=Ref.Kind.PR, revision=start.revision, opened_by=author
        )


def pr_ref(repo: ModelRepo, number: int) -> Ref | None:
    return Ref.objects.filter(repo=repo, kind=Ref.Kind.PR, name=str(number)).select_related("revision").first()


def resolve_revision(repo: ModelRepo, rev: str | None) -> Revision:
    """A branch, a tag (``refs/heads/x``, ``refs/tags/x`` or bare; a branch wins) or a full sha -> the Revision.

    RevisionNotFound (404) otherwise.
    """
    rev = rev or DEFAULT_BRANCH
    kinds = [Ref.Kind.BRANCH, Ref.Kind.TAG]
    if match := PR_REF_RE.match(rev):
        rev, kinds = match[1], [Ref.Kind.PR]
    for prefix, kind in (("refs/heads/", Ref.Kind.BRANCH), ("refs/tags/", Ref.Kind.TAG)):
        if rev.startswith(prefix):
            rev, kinds = rev[len(prefix) :], [kind]
    refs = {ref.kind: ref for ref in Ref.objects.filter(repo=repo, name=rev, kind__in=kinds).select_related("revision")}
    for kind in kinds:
        if kind in refs:
            return refs[kind].revision
    if SHA_RE.match(rev):
        revision = Revision.objects.filter(repo=repo, sha=rev).first()
        if revision is not None:
            return revision
    elif SHORT_SHA_RE.match(rev):
        # A unique prefix of a commit id, as git accepts (7+ hex digits).
        matches = list(Revision.objects.filter(repo=repo, sha__startswith=rev)[:2])
        if len(matches) == 1:
            return matches[0]
    raise RevisionError(f"Invalid rev id: {rev}", status_code=404, code="RevisionNotFound")


REF_NAME_RE = re.compile(r"^(?!.*\.\.)(?!.*//)[A-Za-z0-9][A-Za-z0-9._/-]{0,99}(?<![/.])$")


def _check_ref_name(name: str, what: str) -> None:
    if not REF_NAME_RE.match(name) or SHA_RE.match(name) or name.startswith("refs/") or name.endswith(".lock"):
        raise RevisionError(f"Invalid reference for a {what}: '{name}'.", status_code=400)


def tag_create(repo: ModelRepo, tag: str, revision: Revision, message: str = "") -> Ref:
    _check_ref_name(tag, "tag")
    try:
        with transaction.atomic():
            return Ref.objects.create(repo=repo, name=tag, kind=Ref.Kind.TAG, revision=revision, message=message[:500])
    except IntegrityError:
        raise RevisionError(f"Tag reference refs/tags/{tag} already exists.", status_code=409) from None


def branch_create(repo: ModelRepo, branch: str, start: Revision) -> Ref:
    """A new branch at ``start``; 409 when it exists (the client's ``exist_ok`` reads the status)."""
    _check_ref_name(branch, "branch")
    try:
        with transaction.atomic():
            return Ref.objects.create(repo=repo, name=branch, kind=Ref.Kind.BRANCH, revision=start)
    except IntegrityError:
        raise RevisionError(f"Reference refs/heads/{branch} already exists.", status_code=409) from None


def branch_delete(repo: ModelRepo, branch: str) -> None:
    """Delete a branch; the default branch is protected. Its revisions stay reachable by sha."""
    if branch == DEFAULT_BRANCH:
        raise RevisionError(f"Cannot delete refs/heads/{DEFAULT_BRANCH}: it is the default branch.", status_code=403)
    deleted, _ = branches(repo).filter(name=branch).delete()
    if not deleted:
        raise RevisionError(f"Invalid rev id: {branch}", status_code=404, code="RevisionNotFound")


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


def squash_branch(repo: ModelRepo, branch: str, *, author, message: str) -> Revision:
    """``super_squash_history``: one new root revision with the branch's files; the branch moves to it.

    The older revisions stay reachable by sha (other refs, PRs and downloads may name them); only the
    branch's history becomes a single commit.
    """
    with transaction.atomic():
        ref = writable_refs(repo, branch).select_for_update().select_related("revision").first()
        if ref is None:
            raise RevisionError(f"Invalid rev id: {branch}", status_code=404, code="RevisionNotFound")
        manifest = manifest_of(ref.revision)
        sha = hashlib.sha1(f"squash {ref.revision.sha} {timezone.now().isoformat()}".encode(), usedforsecurity=False)
        revision = Revision.objects.create(
            repo=repo, sha=sha.hexdigest(), parent=None, message=(message or "Squash")[:500], author=author
        )
        RepoFile.objects.bulk_create(
            RepoFile(revision=revision, path=path, blob_id=blob) for path, blob in sorted(manifest.items())
        )
        Ref.objects.filter(pk=ref.pk).update(revision=revision)
    return revision


def copy_into(source: Revision, target: ModelRepo, *, author, message: str) -> Revision:
    """``duplicate_repo``: ``target``'s main gets ``source``'s files in one revision (blobs are shared, not copied)."""
    blobs = {row.path: row.blob for row in RepoFile.objects.filter(revision=source).select_related("blob")}
    result = revision_create(target, author=author, message=message, add=blobs)
    return result.revision
