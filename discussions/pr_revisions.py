"""A pull request's three revisions: its head (refs/pr/N), its merge base and its target branch's tip."""

from __future__ import annotations

from discussions.models import Thread
from models_app.models import Revision
from models_app.repos.revisions import DEFAULT_BRANCH, branches, pr_ref


def pr_head(thread: Thread) -> Revision | None:
    ref = pr_ref(thread.room.repo, thread.num)
    return ref.revision if ref is not None else None


def merge_base(thread: Thread) -> Revision | None:
    """The target's tip when the PR opened: its changes are shown against it, as GitHub does."""
    return Revision.objects.filter(repo_id=thread.room.repo_id, sha=thread.base_sha).first()


def target_tip(thread: Thread) -> Revision | None:
    """The target branch's tip now (what a merge would land on), or the merge base when the branch is gone."""
    ref = branches(thread.room.repo).filter(name=thread.target_branch or DEFAULT_BRANCH).select_related("revision")
    ref = ref.first()
    return ref.revision if ref is not None else merge_base(thread)
