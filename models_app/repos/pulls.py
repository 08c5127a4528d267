"""Merging a pull request: its changes (merge base -> refs/pr/N) applied onto the target branch's tip.

A three-way merge by path, on manifests: a path the PR changed is taken from
the PR unless the target changed it too, to something else; such a path is a
conflict and nothing is merged. When the target has not moved since the PR
opened, the branch simply moves to the PR's head (a fast-forward).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from models_app.models import Blob, ModelRepo, Ref, Revision
from models_app.repos.events import announce_revision
from models_app.repos.revisions import (
    RevisionError,
    _apply_card,
    branches,
    manifest_of,
    pr_ref,
    revision_create,
)


class MergeConflict(RevisionError):
    """The target branch changed some of the PR's paths differently: 409, with the files."""

    def __init__(self, files: list[str]):
        super().__init__(
            f"The pull request conflicts with the target branch on {len(files)} file(s): {', '.join(files[:20])}. "
            "Nothing was merged.",
            status_code=409,
            detail={"conflictingFiles": files},
            code="MergeConflict",
        )
        self.files = files


@dataclass(frozen=True)
class MergePlan:
    head: Revision
    tip: Revision | None
    add: dict[str, str]  # path -> blob sha256 to write onto the tip
    delete: list[str]
    conflicts: list[str]


def merge_plan(repo: ModelRepo, number: int, base_sha: str, target: str) -> MergePlan:
    """What merging refs/pr/``number`` into ``target`` would do, and which paths conflict."""
    ref = pr_ref(repo, number)
    if ref is None:
        raise RevisionError(f"Invalid rev id: refs/pr/{number}", status_code=404, code="RevisionNotFound")
    tip_ref = branches(repo).filter(name=target).select_related("revision").first()
    if tip_ref is None:
        raise RevisionError(f"Invalid rev id: {target}", status_code=404, code="RevisionNotFound")
    base = Revision.objects.filter(repo=repo, sha=base_sha).first()
    base_files, head_files = manifest_of(base), manifest_of(ref.revision)
    tip_files = manifest_of(tip_ref.revision)
    add, delete, conflicts = {}, [], []
    for path in sorted(set(base_files) | set(head_files)):
        before, after = base_files.get(path), head_files.get(path)
        if before == after:
            continue  # the PR did not touch it
        theirs = tip_files.get(path)
        if theirs not in (before, after):
            conflicts.append(path)
        elif after is None:
            if theirs is not None:
                delete.append(path)
        elif theirs != after:
            add[path] = after
    return MergePlan(ref.revision, tip_ref.revision, add, delete, conflicts)


def pr_merge(repo: ModelRepo, number: int, *, base_sha: str, target: str, author, message: str) -> Revision:
    """Merge refs/pr/``number`` into ``target``; the new tip of ``target`` (MergeConflict, 409, on a conflict).

    The result goes through the ordinary new-revision path (the card is applied to the repo
    row, ``revision_created`` is announced: validation and the room hear of it).
    """
    plan = merge_plan(repo, number, base_sha, target)
    if plan.conflicts:
        raise MergeConflict(plan.conflicts)
    if plan.tip is not None and plan.tip.sha == base_sha:
        return _fast_forward(repo, target, plan.tip, plan.head, author)
    blobs = Blob.objects.in_bulk(list(plan.add.values()))
    result = revision_create(
        repo,
        author=author,
        message=message,
        add={path: blobs[sha] for path, sha in plan.add.items()},
        delete=plan.delete,
        parent_sha=plan.tip.sha if plan.tip else None,
        branch=target,
        allow_empty=True,
    )
    return result.revision


def _fast_forward(repo: ModelRepo, target: str, tip: Revision, head: Revision, author) -> Revision:
    with transaction.atomic():
        ref = branches(repo).filter(name=target).select_for_update().first()
        if ref is None or ref.revision_id != tip.pk:
            raise RevisionError(
                f"The branch '{target}' moved while merging; try again.", status_code=409, code="MergeConflict"
            )
        _apply_card(repo, target, manifest_of(tip), manifest_of(head), None)
        Ref.objects.filter(pk=ref.pk).update(revision=head)
        ModelRepo.objects.filter(pk=repo.pk).update(updated=timezone.now())
        announce_revision(head, created_by=author)
    return head
