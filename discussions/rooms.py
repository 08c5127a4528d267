"""The rules of a room: who may read and post, posting, editing, deleting, bans, history.

Every write saves first and broadcasts from ``transaction.on_commit`` (see
``broadcast.py``), so a frame a client receives always names a row it can read
back. Posting locks the room row: ``seq`` is then gap-free and follows commit
order, which lets clients and relays detect a missed message by its id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from discussions.broadcast import broadcast
from discussions.frames import message_frame, with_reactions
from discussions.models import Mention, Message, Room, RoomBan
from hub.access import credentials_can_write, credentials_still_valid
from hub.markdown import mentioned_names, render_markdown
from models_app.models import ModelRepo
from models_app.repos.events import announce_access_change
from models_app.repos.rules import can_write, visible_repos

log = logging.getLogger(__name__)

MAX_BODY = 4000
HISTORY_LIMIT = 50
HISTORY_MAX = 200


@dataclass
class RoomError(Exception):
    """A refusal the client is told about: ``{"type": "error", "code": ..., "message": ...}``."""

    code: str
    message: str

    def frame(self) -> dict:
        return {"type": "error", "code": self.code, "message": self.message}


def room_for(repo: ModelRepo) -> Room:
    room, _ = Room.objects.get_or_create(repo=repo)
    return room


def is_moderator(user, room: Room) -> bool:
    return can_write(user, room.repo)


def active_ban(user, room: Room) -> RoomBan | None:
    if not user.is_authenticated:
        return None
    return RoomBan.objects.filter(room=room, user=user, until__gt=timezone.now()).first()


def can_post(user, room: Room) -> bool:
    return bool(user.is_authenticated and active_ban(user, room) is None)


@dataclass(frozen=True)
class Access:
    """What one connection may do in one room, read fresh from the database."""

    room: Room | None  # None: it may no longer see the room (private now, deleted, credentials gone)
    can_post: bool = False
    moderator: bool = False
    can_write: bool = False  # the credentials allow writes (a read token does not)


NO_ACCESS = Access(None)


def room_access(user, token, repo_pk: int) -> Access:
    """The one answer to "what may this socket do here", at connect and for every frame.

    Visibility is the repo's rule (``visible_repos``), posting and moderation
    the room's (bans, ownership), narrowed by the credentials' scope exactly
    as on HTTP (``hub.access``).
    """
    if not credentials_still_valid(user, token):
        return NO_ACCESS
    repo = visible_repos(user).filter(pk=repo_pk).first()
    if repo is None:
        return NO_ACCESS
    room = room_for(repo)
    room.repo = repo
    writes = credentials_can_write(token)
    return Access(
        room,
        can_post=writes and can_post(user, room),
        moderator=writes and is_moderator(user, room),
        can_write=writes,
    )


def _check_body(body) -> str:
    if not isinstance(body, str) or not body.strip():
        raise RoomError("invalid", "A message needs a non-empty text body.")
    if len(body) > MAX_BODY:
        raise RoomError("too_long", f"A message may have at most {MAX_BODY} characters; this one has {len(body)}.")
    return body


def check_rate(user, what: str = "chat") -> None:
    """Per-user counters per window in the shared cache (Redis when scaled out).

    A post is refused when this window's count plus the previous window's passes
    the limit: any ``limit + 1`` posts within one window span at most two
    adjacent windows, so a burst across a window boundary is refused too (a
    plain fixed window lets up to twice the limit through there).
    """
    limit, window = settings.HUB_CHAT_RATE_MESSAGES, settings.HUB_CHAT_RATE_SECONDS
    now = timezone.now().timestamp()
    bucket = int(now // window)
    key = f"{what}-rate:{user.pk}:{bucket}"
    try:
        cache.add(key, 0, timeout=2 * window + 1)
        count = cache.incr(key) + (cache.get(f"{what}-rate:{user.pk}:{bucket - 1}") or 0)
    except Exception:  # noqa: BLE001 - a cache outage must not stop the chat; fail open
        log.warning("chat rate limit cache unavailable", exc_info=True)
        return
    if count > limit:
        wait = int(window - now % window) + 1
        raise RoomError(
            "rate_limited", f"Slow down: at most {limit} messages per {window} seconds. Try again in {wait} s."
        )


def check_can_post(user, room: Room) -> None:
    if not user.is_authenticated:
        raise RoomError("not_allowed", "Log in to post in this room.")
    ban = active_ban(user, room)
    if ban is not None:
        raise RoomError(
            "not_allowed", f"You are banned from posting in this room until {ban.until:%Y-%m-%d %H:%M} UTC."
        )


def _render(body: str) -> tuple[str, list]:
    names = mentioned_names(body)
    users = {}
    if names:
        users = {
            u.username.lower(): u
            for u in get_user_model().objects.annotate(lname=Lower("username")).filter(lname__in=names)
        }

    def link(name: str) -> str | None:
        user = users.get(name.lower())
        return f"/{user.username}" if user else None

    return render_markdown(body, mention_link=link, emoji_shortcodes=True), list(users.values())


def message_post(
    room: Room,
    user,
    body,
    *,
    client_id: str = "",
    reply_to=None,
    kind: str = "user",
    thread=None,
    event: str = "",
    data: dict | None = None,
    recorded: bool = False,
) -> Message:
    """Save a message (a user's, or the hub's when ``user`` is None) and broadcast it after commit.

    ``thread``: a discussion's or pull request's comment (``event`` "") or event; it gets a room
    seq and is broadcast like any other message, labelled with its thread.
    ``recorded``: the hub records, in ``user``'s name, something they did elsewhere (a commit to a
    pull request): the commit was the act, so neither bans nor the chat rate apply to the record.
    """
    body = _check_body(body)
    if user is not None:
        if not recorded:
            check_can_post(user, room)
            check_rate(user)
        kind = Message.Kind.USER
    if reply_to is not None and not (isinstance(reply_to, int) and reply_to > 0):
        raise RoomError("invalid", "reply_to must be the id of a message in this room.")
    html, mentioned = _render(body)
    with transaction.atomic():
        locked = Room.objects.select_for_update().get(pk=room.pk)
        if reply_to is not None and not Message.objects.filter(room=locked, seq=reply_to).exists():
            raise RoomError("invalid", f"There is no message {reply_to} in this room to reply to.")
        locked.last_seq += 1
        locked.save(update_fields=["last_seq"])
        message = Message.objects.create(
            room=locked,
            seq=locked.last_seq,
            author=user,
            kind=kind,
            body=body,
            html=html,
            client_id=str(client_id or "")[:64],
            reply_to=reply_to,
            thread=thread,
            event=event,
            data=data or {},
        )
        Mention.objects.bulk_create(
            [Mention(user=u, message=message) for u in mentioned if user is None or u.pk != user.pk],
            ignore_conflicts=True,
        )
        frame = message_frame(message, reactions=[])
        transaction.on_commit(lambda: broadcast(room.repo_id, frame, seq=message.seq))
    room.last_seq = message.seq
    return message


def message_preview(body) -> str:
    """The HTML ``body`` would get if posted now (same checks on the text, nothing saved)."""
    return _render(_check_body(body))[0]


def system_post(repo: ModelRepo, body: str) -> Message:
    """The hub speaks: a message with no author (kind "system")."""
    return message_post(room_for(repo), None, body, kind=Message.Kind.SYSTEM)


def _own_message(room: Room, user, seq, *, moderator_ok: bool) -> Message:
    if not user.is_authenticated:
        raise RoomError("not_allowed", "Log in to change messages.")
    if not isinstance(seq, int):
        raise RoomError("invalid", "id must be a message id.")
    message = Message.objects.select_related("author", "thread").filter(room=room, seq=seq).first()
    if message is None or message.deleted is not None:
        raise RoomError("invalid", f"There is no message {seq} in this room.")
    if message.author_id != user.pk and not (moderator_ok and is_moderator(user, room)):
        raise RoomError("not_allowed", "You can only change your own messages.")
    return message


def message_edit(room: Room, user, seq, body) -> Message:
    body = _check_body(body)
    check_can_post(user, room)  # a banned user may delete their messages, not rewrite them
    with transaction.atomic():
        message = _own_message(room, user, seq, moderator_ok=False)
        if message.event:
            raise RoomError("invalid", "Only comments can be edited; this message records an event of its thread.")
        message.body = body
        message.html, _ = _render(body)
        message.edited = timezone.now()
        message.num_edits += 1
        message.save(update_fields=["body", "html", "edited", "num_edits"])
        frame = message_frame(message, "edit")
        transaction.on_commit(lambda: broadcast(room.repo_id, frame))
    return message


def message_delete(room: Room, user, seq) -> Message:
    """The author, the model's owner or staff turn a message into a tombstone for everyone."""
    with transaction.atomic():
        message = _own_message(room, user, seq, moderator_ok=True)
        message.deleted = timezone.now()
        message.save(update_fields=["deleted"])
        frame = message_frame(message, "delete")
        transaction.on_commit(lambda: broadcast(room.repo_id, frame))
    return message


def room_ban(room: Room, moderator, username, minutes, reason: str = "") -> RoomBan | None:
    """Ban ``username`` from posting for ``minutes`` (0 lifts the ban). Owner and staff only."""
    if not is_moderator(moderator, room):
        raise RoomError("not_allowed", "Only the model's owner and staff can ban users.")
    if not isinstance(minutes, int) or not 0 <= minutes <= 60 * 24 * 365:
        raise RoomError("invalid", "minutes must be a whole number from 0 to 525600.")
    target = get_user_model().objects.filter(username__iexact=str(username)).first()
    if target is None:
        raise RoomError("invalid", f"There is no user {username!r}.")
    if target.pk == room.repo.owner_id:
        raise RoomError("invalid", "The model's owner cannot be banned from its room.")
    with transaction.atomic():
        # The banned user's open sockets learn at once that they may no longer post.
        announce_access_change(room.repo_id)
        if minutes == 0:
            RoomBan.objects.filter(room=room, user=target).delete()
            return None
        ban, _ = RoomBan.objects.update_or_create(
            room=room,
            user=target,
            defaults={
                "until": timezone.now() + timedelta(minutes=minutes),
                "by": moderator,
                "reason": str(reason)[:200],
            },
        )
        return ban


def history(room: Room, *, after=None, before=None, limit=None) -> list[dict]:
    """Messages in id order: after ``after``, or the newest ``limit`` before ``before`` (or overall)."""
    try:
        limit = min(max(int(limit or HISTORY_LIMIT), 1), HISTORY_MAX)
        after = int(after) if after not in (None, "") else None
        before = int(before) if before not in (None, "") else None
    except (TypeError, ValueError):
        raise RoomError("invalid", "after, before and limit must be whole numbers.") from None
    messages = with_reactions(Message.objects.filter(room=room))
    if after is not None:
        rows = list(messages.filter(seq__gt=after).order_by("seq")[:limit])
    else:
        if before is not None:
            messages = messages.filter(seq__lt=before)
        rows = list(messages.order_by("-seq")[:limit])[::-1]
    return [message_frame(m) for m in rows]


def rooms_announce_access_of(user) -> None:
    """``user``'s credentials changed (a token revoked): re-check every room where they are online."""
    from discussions.models import Presence

    for repo_pk in set(Presence.objects.filter(user=user).values_list("room__repo_id", flat=True)):
        announce_access_change(repo_pk)


def unread_mentions(user) -> int:
    return Mention.objects.filter(user=user, read=False).count()
