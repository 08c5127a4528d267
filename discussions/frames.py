"""A message as clients see it: the same dict on the socket, in history frames and in the REST API."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from discussions.models import Message, Reaction


def with_reactions(messages: QuerySet[Message]) -> QuerySet[Message]:
    """``messages`` with their authors and reactions loaded in two queries, however many rows."""
    return messages.select_related("author", "thread").prefetch_related(
        Prefetch("reactions", queryset=Reaction.objects.select_related("user"))
    )


def reaction_summary(reactions) -> list[dict]:
    """``[{"emoji", "count", "users"}]`` in the order each emoji was first used on the message."""
    by_emoji: dict[str, list[str]] = {}
    for reaction in reactions:
        by_emoji.setdefault(reaction.emoji, []).append(reaction.user.username)
    return [{"emoji": e, "count": len(users), "users": users} for e, users in by_emoji.items()]


def message_reactions(message: Message) -> list[dict]:
    prefetched = getattr(message, "_prefetched_objects_cache", {}).get("reactions")
    if prefetched is None:
        prefetched = message.reactions.select_related("user")
    return reaction_summary(prefetched)


def message_frame(message: Message, kind: str = "message", *, reactions: list[dict] | None = None) -> dict:
    """A message as clients see it, on the socket and in the REST history alike.

    ``reactions`` may be passed when the caller knows them (a new message has
    none); otherwise they are read, from the prefetch of ``with_reactions`` if any.
    """
    deleted = message.deleted is not None
    if reactions is None:
        reactions = [] if deleted else message_reactions(message)
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
        "reactions": [] if deleted else reactions,
        # A discussion's or pull request's message, shown in the room's stream with its thread's label.
        "thread": thread_label(message),
        "event": message.event or None,
    }


def thread_label(message: Message) -> dict | None:
    if message.thread_id is None:
        return None
    thread = message.thread
    return {"num": thread.num, "title": thread.title, "pull_request": thread.is_pull_request}
