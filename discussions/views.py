"""The room's page: a tab of the model page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from discussions import rooms
from models_app.repos.rules import get_visible_repo


def room_page(request: HttpRequest, owner: str, name: str) -> HttpResponse:
    repo = get_visible_repo(request.user, owner, name)
    room = rooms.room_for(repo)
    return render(
        request,
        "discussions/room.html",
        {"repo": repo, "room": room, "can_post": rooms.can_post(request.user, room)},
    )
