"""Emoji reactions: one user toggles one emoji on one message, and every socket in the room sees the new counts.

A reaction frame carries the message's whole reaction summary, not a delta:
a client that missed one frame is right again after the next, and a reload
reads the same summary from the history.
"""

from __future__ import annotations

import emoji
from django.db import transaction

from discussions.broadcast import broadcast
from discussions.frames import message_reactions
from discussions.models import Message, Reaction, Room
from discussions.rooms import RoomError, check_can_post, check_rate

MAX_KINDS = 20  # different emoji on one message; more is noise, and bounds the frame


def reaction_emoji(value) -> str:
    """The one emoji ``value`` names: the emoji itself, or a ``:shortcode:`` (``:tada:``, ``:thumbsup:``)."""
    text = value.strip() if isinstance(value, str) else ""
    if text.startswith(":") and text.endswith(":"):
        text = emoji.emojize(text, language="alias")
    if not text or len(text) > 32 or not emoji.purely_emoji(text) or emoji.emoji_count(text) != 1:
        raise RoomError("invalid", f"A reaction is one emoji, such as 👍 or :tada:; {str(value)[:40]!r} is not.")
    return text


def reaction_toggle(room: Room, user, seq, value) -> list[dict]:
    """Add ``user``'s ``value`` reaction to message ``seq``, or take it back if it is there; returns the summary."""
    check_can_post(user, room)  # reacting is speaking: anonymous and banned users cannot
    glyph = reaction_emoji(value)
    if not isinstance(seq, int):
        raise RoomError("invalid", "id must be a message id.")
    check_rate(user, "react")
    with transaction.atomic():
        # The row lock orders two toggles of one message, so the summaries broadcast follow commit order.
        message = Message.objects.select_for_update().filter(room=room, seq=seq, deleted__isnull=True).first()
        if message is None:
            raise RoomError("invalid", f"There is no message {seq} in this room.")
        removed, _ = Reaction.objects.filter(message=message, user=user, emoji=glyph).delete()
        if not removed:
            kinds = set(Reaction.objects.filter(message=message).values_list("emoji", flat=True))
            if glyph not in kinds and len(kinds) >= MAX_KINDS:
                raise RoomError("invalid", f"A message may carry at most {MAX_KINDS} different reactions.")
            Reaction.objects.create(message=message, user=user, emoji=glyph)
        summary = message_reactions(message)
        frame = {"type": "reaction", "id": message.seq, "reactions": summary}
        transaction.on_commit(lambda: broadcast(room.repo_id, frame))
    return summary
