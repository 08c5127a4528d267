"""The Community pages: the list of a model's discussions and pull requests, and one thread's page.

Thin views over ``discussions/threads.py``: each form posts one action, which
calls one rule there. A refusal (permissions, a conflict, a ban, the rate) is
shown on the page with its status code, never a 500; a success redirects, so a
reload does not post twice.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string

from discussions import threads
from discussions.models import Message, Thread
from discussions.pr_revisions import merge_base, pr_head, target_tip
from discussions.rooms import RoomError, can_post, room_for
from discussions.threads_api import ERROR_STATUS
from hub.api import ApiError
from models_app.repos.changes import revision_changes
from models_app.repos.rules import get_visible_repo
from models_app.validation.compare import pr_comparison

STATUS_FILTERS = ("open", "closed", "merged", "all")
KIND_FILTERS = {"all": "All", "pull_request": "Pull requests", "discussion": "Discussions"}
THREAD_ACTIONS = ("comment", "close", "reopen", "merge")


def _refusal(exc: RoomError | ApiError) -> tuple[str, int]:
    if isinstance(exc, RoomError):
        return exc.message, ERROR_STATUS.get(exc.code, 400)
    return exc.message, exc.status_code


def _filter_links(status: str, kind: str) -> dict:
    """Plain links for each filter value, keeping the other filter."""

    def href(s: str, k: str) -> str:
        return f"?status={s}" + (f"&type={k}" if k != "all" else "")

    return {
        "statuses": [{"value": s, "href": href(s, kind), "current": s == status} for s in STATUS_FILTERS],
        "kinds": [
            {"value": k, "label": v, "href": href(status, k), "current": k == kind} for k, v in KIND_FILTERS.items()
        ],
    }


def threads_page(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    """GET: the list, filtered by ``status`` and ``type``. POST: open a discussion (signed-in users)."""
    repo = get_visible_repo(request.user, owner, name)
    if repo.is_dataset:
        raise Http404("Datasets have no discussion pages.")
    error, code, form = None, 200, {}
    if request.method == "POST":
        if not request.user.is_authenticated:
            raise PermissionDenied("Log in to open a discussion.")
        form = request.POST
        try:
            thread = threads.thread_open(repo, request.user, form.get("title", ""), form.get("description", ""))
        except RoomError as exc:
            error, code = _refusal(exc)
        else:
            return redirect(f"{repo.web_path}/discussions/{thread.num}")
    status = request.GET.get("status") if request.GET.get("status") in STATUS_FILTERS else "open"
    kind = request.GET.get("type") if request.GET.get("type") in KIND_FILTERS else "all"
    try:
        page = max(int(request.GET.get("p") or 0), 0)
    except ValueError:
        page = 0
    count, start, rows = threads.threads_list(repo, kind=kind, status=status, page=page)
    comments = dict(
        Message.objects.filter(thread__in=rows, event=Message.Event.COMMENT, deleted__isnull=True)
        .values("thread")
        .annotate(n=Count("id"))
        .values_list("thread", "n")
    )
    for thread in rows:
        thread.comment_count = comments.get(thread.pk, 0)
    query = f"status={status}" + (f"&type={kind}" if kind != "all" else "")
    context = {
        "repo": repo,
        "threads": rows,
        "count": count,
        "status": status,
        "kind": kind,
        "open_count": threads.open_count(repo),
        "prev_href": f"?{query}&p={page - 1}" if page > 0 else None,
        "next_href": f"?{query}&p={page + 1}" if start + len(rows) < count else None,
        "form": form,
        "error": error,
        **_filter_links(status, kind),
    }
    return render(request, "discussions/threads.html", context, status=code)


def _thread_or_404(request: HttpRequest, owner: str, name: str, num: int):
    repo = get_visible_repo(request.user, owner, name)
    if repo.is_dataset:
        raise Http404("Datasets have no discussion pages.")
    try:
        return repo, threads.thread_get(repo, num)
    except RoomError as exc:
        raise Http404(exc.message) from None


def _pr_context(request: HttpRequest, repo, thread: Thread) -> dict:
    """What the live part of a PR page shows: the validation diff and the merge / close controls."""
    head = pr_head(thread) if thread.is_pull_request else None
    # Once merged or closed, the PR is compared with where it started; while open, with where it would land.
    base = target_tip(thread) if thread.status in Thread.OPEN_STATUSES else merge_base(thread)
    comparison = pr_comparison(head, base) if head is not None and base is not None else None
    user = request.user
    return {
        "repo": repo,
        "thread": thread,
        "comparison": comparison,
        "may_manage": threads.may_manage(user, thread),
        "may_merge": threads.may_merge(user, thread),
        "conflicts": threads.conflicting_files(thread) if thread.status == Thread.Status.OPEN else [],
    }


def thread_page(request: HttpRequest, owner: str, name: str, num: int) -> HttpResponse:
    """GET: the thread. POST ``action``: comment, close, reopen or merge."""
    repo, thread = _thread_or_404(request, owner, name, num)
    error, code, form = None, 200, {}
    if request.method == "POST":
        if not request.user.is_authenticated:
            raise PermissionDenied("Log in to take part in a discussion.")
        form = request.POST
        try:
            done = _act(request, thread, form)
        except (RoomError, ApiError) as exc:
            error, code = _refusal(exc)
            thread = threads.thread_get(repo, num)  # a refused action may have read a stale status
        else:
            messages.success(request, done)
            return redirect(f"{repo.web_path}/discussions/{thread.num}")
    room = room_for(repo)
    events = Message.objects.filter(thread=thread).select_related("author").order_by("seq")
    head = pr_head(thread) if thread.is_pull_request else None
    changes = revision_changes(merge_base(thread), head) if head is not None else None
    context = _pr_context(request, repo, thread) | {
        "events": events,
        "changes": changes,
        "head": head,
        "can_comment": can_post(request.user, room),
        "error": error,
        "form": form,
    }
    return render(request, "discussions/thread.html", context, status=code)


def _act(request: HttpRequest, thread: Thread, form) -> str:
    action, user = form.get("action"), request.user
    if action == "comment":
        threads.thread_comment(thread, user, form.get("comment", ""))
        return "Comment posted."
    if action in ("close", "reopen"):
        threads.thread_set_status(thread, user, "closed" if action == "close" else "open", form.get("comment") or None)
        return f"#{thread.num} is {thread.status}."
    if action == "merge":
        threads.check_may_merge(user, thread)
        base, head = target_tip(thread), pr_head(thread)
        comparison = pr_comparison(head, base) if head is not None and base is not None else None
        if comparison is not None and comparison.flagged and not form.get("merge_anyway"):
            raise RoomError(
                "invalid",
                f"This pull request is flagged ({comparison.reason}). Tick “merge anyway” to merge it regardless.",
            )
        threads.thread_merge(thread, user)
        return f"Pull request #{thread.num} merged into {thread.target_branch or 'main'}."
    raise RoomError("invalid", f"action is one of {', '.join(THREAD_ACTIONS)}.")


def thread_validation_fragment(request: HttpRequest, owner: str, name: str, num: int) -> HttpResponse:
    """The live part of a PR page, polled by static/js/pull_request.js while validation is pending."""
    repo, thread = _thread_or_404(request, owner, name, num)
    if not thread.is_pull_request:
        raise Http404(f"#{num} is a discussion, not a pull request.")
    html = render_to_string("discussions/_pr_live.html", _pr_context(request, repo, thread), request=request)
    return HttpResponse(html, headers={"Cache-Control": "no-store"})
