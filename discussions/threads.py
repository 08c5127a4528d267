"""Discussions and pull requests as threads of a model's room: who may do what, and the writes.

Every comment and event is a room message (``rooms.message_post``), so bans, the
chat rate, edits, deletes and the live broadcast are the room's. The rules
here are the Hugging Face hub's: any signed-in user who can see a repo may open
a discussion or a pull request and comment; a thread's author or a repo writer
may rename, close and reopen it; only writers merge, and close or rename
others' threads; hiding a comment is the room's delete (the author's own, or
a writer's for anyone's).
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from discussions.models import Message, Room, Thread
from discussions.rooms import MAX_BODY, RoomError, check_can_post, message_delete, message_edit, message_post, room_for
from models_app.bounds import MAX_DISCUSSION_TITLE
from models_app.models import ModelRepo
from models_app.repos.pulls import merge_plan, pr_merge
from models_app.repos.revisions import DEFAULT_BRANCH, next_discussion_num, pr_open
from models_app.repos.rules import can_write

log = logging.getLogger(__name__)

PAGE_SIZE = 50
NO_DESCRIPTION = "_No description provided._"
MAX_NUM = 2**31 - 1  # Thread.num is an integer column
STATUSES = {"open", "closed"}  # what a user may set; "merged" comes only from a merge


def check_title(title) -> str:
    if not isinstance(title, str) or not title.strip():
        raise RoomError("invalid", "A discussion needs a non-empty title.")
    title = title.strip()
    if len(title) > MAX_DISCUSSION_TITLE:
        raise RoomError(
            "too_long", f"A title may have at most {MAX_DISCUSSION_TITLE} characters; this one has {len(title)}."
        )
    return title


def may_manage(user, thread: Thread) -> bool:
    """Rename, close, reopen: the thread's author or a writer of the repo."""
    return bool(user.is_authenticated and (thread.author_id == user.pk or can_write(user, thread.room.repo)))


def check_may_manage(user, thread: Thread) -> None:
    if not may_manage(user, thread):
        raise RoomError("not_allowed", "Only the author of this discussion and the repo's writers can change it.")


def check_may_merge(user, thread: Thread) -> None:
    if not can_write(user, thread.room.repo):
        raise RoomError("not_allowed", "Only the repo's writers can merge a pull request.")
    if not thread.is_pull_request:
        raise RoomError("invalid", f"#{thread.num} is a discussion, not a pull request.")
    if thread.status != Thread.Status.OPEN:
        raise RoomError("invalid", f"Only an open pull request can be merged; #{thread.num} is {thread.status}.")


def may_merge(user, thread: Thread) -> bool:
    try:
        check_may_merge(user, thread)
    except RoomError:
        return False
    return True


def open_count(repo: ModelRepo) -> int:
    """The number on the model header's Community tab and the list page."""
    return Thread.objects.filter(room__repo=repo, status__in=Thread.OPEN_STATUSES).count()


def thread_get(repo: ModelRepo, num) -> Thread:
    if not isinstance(num, int) or not 0 < num <= MAX_NUM:  # beyond the column's range: none such, not a 500
        raise RoomError("not_found", f"Discussion #{num} not found in {repo.repo_id}.")
    thread = Thread.objects.select_related("author", "room__repo").filter(room__repo=repo, num=num).first()
    if thread is None:
        raise RoomError("not_found", f"Discussion #{num} not found in {repo.repo_id}.")
    return thread


def threads_list(repo: ModelRepo, *, kind=None, status=None, author=None, page=0) -> tuple[int, int, list[Thread]]:
    """``(count, start, threads)``: newest first, ``PAGE_SIZE`` a page, filtered as the HF client asks."""
    threads = Thread.objects.filter(room__repo=repo).select_related("author")
    if kind == "pull_request":
        threads = threads.filter(is_pull_request=True)
    elif kind == "discussion":
        threads = threads.filter(is_pull_request=False)
    elif kind not in (None, "", "all"):
        raise RoomError("invalid", "type is one of all, discussion, pull_request.")
    if status == "open":
        threads = threads.filter(status__in=Thread.OPEN_STATUSES)
    elif status in ("closed", "merged", "draft"):
        threads = threads.filter(status=status)
    elif status not in (None, "", "all"):
        raise RoomError("invalid", "status is one of all, open, closed, merged, draft.")
    if author:
        threads = threads.filter(author__username__iexact=str(author))
    try:
        page = min(max(int(page or 0), 0), 10**6)
    except (TypeError, ValueError):
        raise RoomError("invalid", "p is a page number from 0.") from None
    start = page * PAGE_SIZE
    return threads.count(), start, list(threads.order_by("-num")[start : start + PAGE_SIZE])


def _new_thread(room: Room, *, num: int, author, title: str, pull_request: bool, status: str, **pr) -> Thread:
    return Thread.objects.create(
        room=room, num=num, author=author, title=title, is_pull_request=pull_request, status=status, **pr
    )


def thread_open(repo: ModelRepo, user, title, description, *, pull_request: bool = False) -> Thread:
    """A new discussion, or a draft pull request at the tip of main (HF ``create_discussion``).

    Its first comment is the description. All in one transaction: a refused comment (a ban,
    the rate) opens nothing and gives its number back.
    """
    title = check_title(title)
    room = room_for(repo)
    check_can_post(user, room)
    with transaction.atomic():
        if pull_request:
            ref = pr_open(repo, DEFAULT_BRANCH, author=user)
            num = int(ref.name)
            pr = {"target_branch": DEFAULT_BRANCH, "base_sha": ref.revision.sha}
        else:
            num, pr = next_discussion_num(repo), {}
        status = Thread.Status.DRAFT if pull_request else Thread.Status.OPEN
        thread = _new_thread(room, num=num, author=user, title=title, pull_request=pull_request, status=status, **pr)
        if description is None or (isinstance(description, str) and not description.strip()):
            description = NO_DESCRIPTION  # the first comment is the description; a thread always has one
        message_post(room, user, description, thread=thread)
    return thread


def thread_comment(thread: Thread, user, body) -> Message:
    return message_post(thread.room, user, body, thread=thread)


def room_reply(room: Room, user, body, *, thread_num=None, client_id: str = "", reply_to=None) -> Message:
    """A message typed in the room; with ``thread_num`` it is a comment of that thread (the HF API shows it)."""
    thread = None
    if thread_num is not None:
        if not isinstance(thread_num, int) or thread_num <= 0:
            raise RoomError("invalid", "thread must be the number of a discussion of this model.")
        thread = Thread.objects.filter(room=room, num=thread_num).first()
        if thread is None:
            raise RoomError("invalid", f"There is no discussion #{thread_num} here.")
    return message_post(room, user, body, client_id=client_id, reply_to=reply_to, thread=thread)


def comment_of(thread: Thread, event_id) -> int:
    """The room seq of the thread's comment named by the HF event id (hex)."""
    try:
        seq = int(str(event_id)[:24], 16) if len(str(event_id)) <= 24 else -1
    except ValueError:
        seq = -1
    if seq <= 0 or not Message.objects.filter(thread=thread, seq=seq, event="").exists():
        raise RoomError("not_found", f"No comment {str(event_id)[:40]} in #{thread.num}.")
    return seq


def comment_edit(thread: Thread, user, event_id, body) -> Message:
    return message_edit(thread.room, user, comment_of(thread, event_id), body)


def comment_hide(thread: Thread, user, event_id) -> Message:
    return message_delete(thread.room, user, comment_of(thread, event_id))


def thread_rename(thread: Thread, user, title) -> Message:
    title = check_title(title)
    check_may_manage(user, thread)
    old = thread.title
    with transaction.atomic():
        Thread.objects.filter(pk=thread.pk).update(title=title)
        thread.title = title
        text = f"renamed #{thread.num} from “{old}” to “{title}”"
        return _event(thread, user, text, Message.Event.TITLE_CHANGE, {"from": old, "to": title})


def thread_set_status(thread: Thread, user, status, comment=None) -> Message:
    """Close or reopen (a draft PR opens); with ``comment``, the comment is posted first."""
    if status not in STATUSES:
        raise RoomError("invalid", "status is 'open' or 'closed'.")
    check_may_manage(user, thread)
    if thread.status == Thread.Status.MERGED:
        raise RoomError("invalid", f"#{thread.num} is merged; its status cannot change.")
    if thread.status == status:
        raise RoomError("invalid", f"#{thread.num} is already {status}.")
    with transaction.atomic():
        if comment:
            thread_comment(thread, user, comment)
        return _status_event(thread, user, status)


def _status_event(thread: Thread, user, status: str, *, recorded: bool = False) -> Message:
    Thread.objects.filter(pk=thread.pk).update(status=status)
    thread.status = status
    text = f"changed the status of #{thread.num} to **{status}**"
    return _event(thread, user, text, Message.Event.STATUS_CHANGE, {"status": status}, recorded=recorded)


def _event(thread: Thread, user, text: str, event: str, data: dict, *, recorded: bool = False) -> Message:
    """A thread event (not a comment): a room message with its type and data, as the HF API lists it."""
    return message_post(thread.room, user, text, thread=thread, event=event, data=data, recorded=recorded)


def conflicting_files(thread: Thread) -> list[str]:
    if not thread.is_pull_request or thread.status in (Thread.Status.MERGED, Thread.Status.CLOSED):
        return []
    try:
        return merge_plan(thread.room.repo, thread.num, thread.base_sha, thread.target_branch).conflicts
    except RoomError:
        return []
    except Exception:  # noqa: BLE001 - a missing ref or branch: nothing to merge, so nothing conflicts
        log.info("no merge plan for %s", thread, exc_info=True)
        return []


def thread_merge(thread: Thread, user, comment=None) -> Message:
    """Merge the pull request into its target (models_app.repos.pulls); merged, with its event.

    A conflict raises ``MergeConflict`` (409) before anything is written.
    """
    check_may_merge(user, thread)
    check_can_post(user, thread.room)
    repo = thread.room.repo
    revision = pr_merge(
        repo,
        thread.num,
        base_sha=thread.base_sha,
        target=thread.target_branch or DEFAULT_BRANCH,
        author=user,
        message=f"Merge pull request #{thread.num}: {thread.title}",
    )
    with transaction.atomic():
        Thread.objects.filter(pk=thread.pk).update(merge_sha=revision.sha)
        thread.merge_sha = revision.sha
        if comment:
            message_post(thread.room, user, comment, thread=thread, recorded=True)
        return _status_event(thread, user, Thread.Status.MERGED, recorded=True)


# -- receivers of models_app's signals ------------------------------------------------------------


def on_pull_request_opened(sender, repo, number, base, head, target, author, title, description, draft, **kw):
    """``create_commit(create_pr=True)`` opened refs/pr/<number>: its thread, description and first commit."""
    room = room_for(repo)
    title = (title or f"Pull request #{number}").strip()[:MAX_DISCUSSION_TITLE]
    try:
        with transaction.atomic():
            thread = _new_thread(
                room,
                num=number,
                author=author,
                title=title,
                pull_request=True,
                status=Thread.Status.DRAFT if draft else Thread.Status.OPEN,
                target_branch=target,
                base_sha=base.sha,
            )
            message_post(room, author, (description or "").strip()[:MAX_BODY] or title, thread=thread, recorded=True)
            if head is not None and head.pk != base.pk:
                _commit_event(thread, author, head)
    except IntegrityError:
        log.warning("pull request #%s of %s already has a thread", number, repo.repo_id)


def on_pull_request_committed(sender, repo, number, revision, author, **kw):
    thread = Thread.objects.select_related("room__repo").filter(room__repo=repo, num=number).first()
    if thread is None:  # the commit that opens a PR: on_pull_request_opened records it with the thread
        return
    _commit_event(thread, author, revision)


def _commit_event(thread: Thread, author, revision) -> Message:
    subject = (revision.message or "").strip().splitlines()
    subject = subject[0][:200] if subject else "(no message)"
    text = f"pushed `{revision.sha[:8]}` to #{thread.num}: {subject}"
    return _event(thread, author, text, Message.Event.COMMIT, {"subject": subject, "oid": revision.sha}, recorded=True)
