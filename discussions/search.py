"""Searching a room's history: every word of the query, anywhere in a message's text, newest matches first.

A case-insensitive substring match per word (``icontains``: ILIKE on
PostgreSQL; on SQLite only ASCII letters fold case). It scans the room's
messages, which is fine for rooms of some hundred thousand messages; a room
far beyond that wants PostgreSQL full-text search (a ``SearchVector`` index)
behind this same function.
"""

from __future__ import annotations

from discussions.frames import message_frame, with_reactions
from discussions.models import Message, Room
from discussions.rooms import HISTORY_LIMIT, HISTORY_MAX, RoomError

MAX_QUERY = 200
MAX_WORDS = 8


def message_search(room: Room, query, *, before=None, limit=None) -> list[dict]:
    """The newest ``limit`` live messages before ``before`` that contain every word of ``query``, in id order."""
    words = query.split() if isinstance(query, str) else []
    if not words or len(query) > MAX_QUERY:
        raise RoomError("invalid", f"Search for some words (at most {MAX_QUERY} characters).")
    if len(words) > MAX_WORDS:
        raise RoomError("invalid", f"Search for at most {MAX_WORDS} words.")
    try:
        limit = min(max(int(limit or HISTORY_LIMIT), 1), HISTORY_MAX)
        before = int(before) if before not in (None, "") else None
    except (TypeError, ValueError):
        raise RoomError("invalid", "before and limit must be whole numbers.") from None
    messages = Message.objects.filter(room=room, deleted__isnull=True)
    for word in words:
        messages = messages.filter(body__icontains=word)
    if before is not None:
        messages = messages.filter(seq__lt=before)
    rows = list(with_reactions(messages).order_by("-seq")[:limit])[::-1]
    return [message_frame(m) for m in rows]
