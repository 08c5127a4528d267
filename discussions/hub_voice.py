"""The hub speaks in a model's room: new revisions and validation verdicts, as system messages.

Both signals are sent after their transaction commits; each post is its own
transaction and broadcasts after that one commits. The validation run comes
from an app written alongside this one, so its fields are read defensively.

A verdict on a pull request's head goes into that pull request's thread (the
room's stream shows it there, labelled with the thread), compared with the
target branch; main's verdicts stay plain room messages.
"""

from __future__ import annotations

import logging

from discussions.models import Message, Thread
from discussions.pr_revisions import pr_head, target_tip
from discussions.rooms import MAX_BODY, message_post, room_for, system_post
from models_app.models import Ref, Revision
from models_app.repos.revisions import DEFAULT_BRANCH

log = logging.getLogger(__name__)


def revision_text(revision, created_by=None) -> str:
    who = f" by {created_by.username}" if created_by is not None else ""
    message = (getattr(revision, "message", "") or "").strip().splitlines()
    summary = f": {message[0][:200]}" if message else ""
    return f"New revision `{revision.sha[:8]}`{who}{summary}"


def verdict_text(run) -> str:
    from models_app.validation.report import verdict_summary

    repo = run.revision.repo
    return f"{verdict_summary(run)} [Details](/{repo.owner.username}/{repo.name}/validation)"


def on_revision_created(sender, revision, created_by=None, **kwargs) -> None:
    refs = Ref.objects.filter(repo_id=revision.repo_id, revision=revision)
    if refs.filter(kind=Ref.Kind.PR).exists() and not refs.filter(kind=Ref.Kind.BRANCH).exists():
        return  # a commit to a pull request only: its thread's commit event says it (discussions/threads.py)
    system_post(revision.repo, revision_text(revision, created_by))


def pr_threads_headed_by(revision: Revision) -> list[Thread]:
    """The pull requests whose ``refs/pr/N`` names ``revision``, unless it is also main's head.

    A fast-forward merge makes a PR's head main's head: its verdict is then main's, said once.
    """
    refs = Ref.objects.filter(repo_id=revision.repo_id, revision=revision)
    if refs.filter(kind=Ref.Kind.BRANCH, name=DEFAULT_BRANCH).exists():
        return []
    nums = [int(n) for n in refs.filter(kind=Ref.Kind.PR).values_list("name", flat=True) if n.isdigit()]
    threads = Thread.objects.filter(room__repo_id=revision.repo_id, num__in=nums, is_pull_request=True)
    return list(threads.select_related("room__repo__owner").order_by("num"))


def pr_verdict_text(thread: Thread, head: Revision) -> str | None:
    """The verdict for the thread, or None while there is none to give (the target still validating)."""
    from models_app.validation.compare import PENDING, pr_comparison, pr_verdict_markdown

    base = target_tip(thread)
    if base is None:
        return None
    comparison = pr_comparison(head, base)
    if comparison.state == PENDING:
        return None  # the target branch's verdict, when it comes, posts this one (post_waiting_verdicts)
    repo = thread.room.repo
    link = f"[Details](/{repo.owner.username}/{repo.name}/discussions/{thread.num})"
    text = pr_verdict_markdown(comparison)
    if len(text) + len(link) + 2 > MAX_BODY:  # a suite of very many tasks: the headline, the page has the rest
        text = text.split("\n\n")[0][: MAX_BODY - len(link) - 2]
    return f"{text}\n\n{link}"


def post_pr_verdict(thread: Thread, head: Revision) -> Message | None:
    """Post the head's verdict into the thread, once per head (``data.verdict`` names the head)."""
    if Message.objects.filter(thread=thread, kind=Message.Kind.SYSTEM, data__verdict=head.sha).exists():
        return None
    text = pr_verdict_text(thread, head)
    if text is None:
        return None
    room = room_for(thread.room.repo)
    return message_post(room, None, text, kind=Message.Kind.SYSTEM, thread=thread, data={"verdict": head.sha})


def post_waiting_verdicts(branch_head: Revision) -> None:
    """A branch's tip got its verdict: the open PRs onto it whose head finished first get theirs now."""
    branches = Ref.objects.filter(repo_id=branch_head.repo_id, kind=Ref.Kind.BRANCH, revision=branch_head)
    names = list(branches.values_list("name", flat=True))
    open_prs = Thread.objects.filter(
        room__repo_id=branch_head.repo_id,
        is_pull_request=True,
        status__in=Thread.OPEN_STATUSES,
    ).select_related("room__repo__owner")
    for thread in open_prs:
        if (thread.target_branch or DEFAULT_BRANCH) not in names:
            continue
        head = pr_head(thread)
        if head is not None and head.pk != branch_head.pk:  # a draft PR still at the tip has nothing to judge
            post_pr_verdict(thread, head)


def on_validation_finished(sender, run, **kwargs) -> None:
    revision = getattr(run, "revision", None)
    repo = getattr(revision, "repo", None)
    if repo is None:
        log.warning("validation_finished without a revision's repo: %r", run)
        return
    if getattr(run, "reason", "") == "superseded":
        return  # a newer commit to the pull request replaced this one; its own verdict will speak
    threads = pr_threads_headed_by(revision)
    if not threads:
        system_post(repo, verdict_text(run))
        post_waiting_verdicts(revision)
        return
    for thread in threads:
        post_pr_verdict(thread, revision)
