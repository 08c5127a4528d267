"""A message as clients see it: the same dict on the socket, in history frames and in the REST API."""

from __future__ import annotations

from discussions.models import Message


def message_frame(message: Message, kind: str = "message") -> dict:
    """A message as clients see it, on the socket and in the REST history alike."""
    deleted = message.deleted is not None
    return {
        "type": kind,
        "id": message.seq,
        "kind": message.kind,
        "author": message.author.username if message.author_id else None,
        "body": "" if deleted else message.body,
        "html": "" if deleted else message.html,
        "created": message.created.isoformat(),
        "edited": message.edited.isoformat() if message.edited else None,
        "deleted": deleted,
        "client_id": message.client_id or None,
        "reply_to": message.reply_to,
    }
