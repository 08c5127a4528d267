"""How far each user has read each room, and what is unread: the per-room markers behind the header's badge.

"Last read" lives on the server, one ``RoomRead`` row per user and room, so
a room read on the phone is read on the laptop too. Opening the room (its
socket's hello) marks everything read; while the page stays open, the client
marks what it shows with ``{"type": "read", "id": N}``. A user's own posts,
and deleted messages, never count as unread. Unread @mentions are cleared with
the messages they sit in.
"""

from __future__ import annotations

from typing import NamedTuple

from django.db.models import Count, F
from django.utils import timezone

from discussions.models import Mention, Message, Room, RoomRead
from discussions.rooms import RoomError
from models_app.repos.rules import visible_repos


class Marks(NamedTuple):
    before: int | None  # None: the first visit
    now: int


def room_mark_read(user, room: Room, upto=None) -> Marks:
    """Mark ``room`` read by ``user`` up to message ``upto`` (all of it when None).

    Returns the mark as it was before (None the first time ``user`` opens the
    room), so the page can draw "new since your last visit" there, and as it
    is now. The mark never moves back: two devices reading at once keep the larger one.
    """
    if not user.is_authenticated:
        raise RoomError("not_allowed", "Log in to keep your place in rooms.")
    newest = Room.objects.filter(pk=room.pk).values_list("last_seq", flat=True).first() or 0
    try:
        mark = newest if upto is None else max(0, min(int(upto), newest))
    except (TypeError, ValueError):
        raise RoomError("invalid", "id must be a message id.") from None
    row, created = RoomRead.objects.get_or_create(room=room, user=user, defaults={"last_read": mark})
    previous = None if created else row.last_read
    if not created:
        RoomRead.objects.filter(pk=row.pk, last_read__lt=mark).update(last_read=mark, updated=timezone.now())
    Mention.objects.filter(user=user, message__room=room, message__seq__lte=mark, read=False).update(read=True)
    return Marks(previous, max(mark, previous or 0))


def unread_rooms(user) -> list[dict]:
    """``[{"room", "url", "unread", "mentions"}]`` for the rooms ``user`` follows or is mentioned in, unread first.

    Three queries whatever the number of rooms. Rooms ``user`` can no longer
    see (made private) are left out.
    """
    visible = visible_repos(user)
    unread = dict(
        Message.objects.filter(
            # One filter() call: both conditions hold for the same RoomRead row, the user's own.
            room__reads__user=user,
            seq__gt=F("room__reads__last_read"),
            deleted__isnull=True,
        )
        .exclude(author=user)
        .values("room")
        .annotate(n=Count("pk"))
        .values_list("room", "n")
    )
    mentions = dict(
        Mention.objects.filter(user=user, read=False, message__deleted__isnull=True)
        .values("message__room")
        .annotate(n=Count("pk"))
        .values_list("message__room", "n")
    )
    rooms = Room.objects.filter(pk__in=set(unread) | set(mentions), repo__in=visible).select_related("repo__owner")
    out = [
        {
            "room": room.repo.repo_id,
            "url": f"{room.repo.web_path}/discussion",
            "unread": unread.get(room.pk, 0),
            "mentions": mentions.get(room.pk, 0),
        }
        for room in rooms
    ]
    return sorted(out, key=lambda r: (-r["mentions"], -r["unread"], r["room"]))
