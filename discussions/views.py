"""The room's page: a tab of the model page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from discussions import rooms
from discussions.models import Message, Report
from discussions.reports import report_create
from hub.api import ApiError
from models_app.repos.rules import get_visible_repo


def room_page(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    repo = get_visible_repo(request.user, owner, name)
    room = rooms.room_for(repo)
    return render(
        request,
        "discussions/room.html",
        {"repo": repo, "room": room, "can_post": rooms.can_post(request.user, room)},
    )


def thread_page(request: HttpRequest, owner: str, name: str, num: int) -> HttpResponse:
    """A placeholder until threads have pages of their own: the room, at the thread's first message."""
    repo = get_visible_repo(request.user, owner, name)
    first = Message.objects.filter(thread__room__repo=repo, thread__num=num).order_by("seq").first()
    if first is None:
        raise Http404(f"Discussion #{num} not found in {repo.repo_id}.")
    return redirect(f"{repo.web_path}/discussion#msg-{first.seq}")


@login_required
def report_page(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    """Report the model, a file, its discussion or a message (``?message=<id>``, ``?path=<file>`` preselect)."""
    repo = get_visible_repo(request.user, owner, name)
    source = request.POST if request.method == "POST" else request.GET
    kind = source.get("kind") or ("message" if source.get("message") else "file" if source.get("path") else "model")
    error, status = None, 200
    if request.method == "POST":
        try:
            report_create(
                request.user,
                repo,
                kind,
                source.get("reason", ""),
                path=source.get("path", ""),
                message_seq=source.get("message"),
            )
        except ApiError as exc:
            error, status = exc.message, exc.status_code
        else:
            messages.success(request, "Thank you: your report was received by the people who run this hub.")
            return redirect(repo.web_path)
    context = {"repo": repo, "kind": kind, "form": source, "error": error, "kinds": Report.Kind.values}
    return render(request, "discussions/report.html", context, status=status)
