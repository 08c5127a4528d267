"""The room's websocket: authenticate, join, relay. The rules live in rooms.py.

Protocol (docs/discussions.md): JSON text frames with a ``type``.
"""

from __future__ import annotations

import logging
import time
import uuid

import orjson
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.http import Http404

from discussions import outbox, presence, reactions, reading, rooms, threads
from discussions.broadcast import publish
from discussions.layer import encode
from discussions.outbox import Outbox
from discussions.relay import get_relay
from hub.access import READ_ONLY_TOKEN_MESSAGE
from models_app.repos.rules import RepoTakenDown, get_visible_repo

log = logging.getLogger(__name__)

TYPING_EVERY = 2.0  # seconds between typing frames one socket may send
# Frames that read the room and frames that change it: access is checked afresh for each.
# "read" moves the user's own read mark: a read token may do it, as reading the room is what it is for.
READ_FRAMES = {"history", "read"}
WRITE_FRAMES = {"message", "edit", "delete", "ban", "typing", "react"}
CLOSE_NO_ACCESS = 4403  # the socket's user may no longer see the room


class RoomConsumer(AsyncWebsocketConsumer):
    # No per-socket channel: the relay holds one subscription per room for
    # the whole process (an alias with no layer configured gives None).
    channel_layer_alias = "discussions.no-per-socket-channel"

    async def connect(self) -> None:
        self.user = self.scope["user"]
        self.token = self.scope.get("auth_token")  # None for a browser session
        self.room = None
        self.revoked = False
        self.pending: list[str] | None = []  # frames of the room that came before our hello
        self.outbox = Outbox(self._send_text, self._too_slow)
        self.conn = uuid.uuid4().hex
        self.last_typing = 0.0
        kwargs = self.scope["url_route"]["kwargs"]
        try:
            self.access, last_read = await database_sync_to_async(self._open)(kwargs["owner"], kwargs["name"])
        except (Http404, RepoTakenDown):  # a repo taken down has no room either
            await self.close(code=4404)  # before accept: the handshake is refused (HTTP 403)
            return
        self.room = self.access.room
        await self.accept()
        self.repo_pk = self.room.repo_id
        # Announce ourselves before joining, so our own presence frame is not echoed to us.
        if self.user.is_authenticated:
            online, came_online = await database_sync_to_async(presence.presence_join)(self.room, self.user, self.conn)
            if came_online:
                await publish(self.repo_pk, {"type": "presence", "online": online})
        try:
            last_id = await get_relay().join(self.repo_pk, self)
        except Exception:  # noqa: BLE001 - the layer is down (Redis restarting): the client retries
            log.warning("could not join room %s", self.repo_pk, exc_info=True)
            await self.disconnect(1011)
            self.room = None
            await self.close(code=1011)
            return
        online = await database_sync_to_async(presence.online)(self.room)
        hello = {
            "type": "hello",
            "room": self.room.repo.repo_id,
            "last_id": last_id,
            "online": online,
            "can_post": self.access.can_post,
            "user": self.user.username if self.user.is_authenticated else None,
            "moderator": self.access.moderator,
            # The read mark before this visit (None: first visit, or anonymous): the page marks what is new.
            "last_read": last_read,
        }
        await self.send(text_data=encode(hello))
        pending, self.pending = self.pending, None
        for text in pending:
            self.outbox.offer(text)
        self.outbox.start()

    def _open(self, owner: str, name: str) -> tuple[rooms.Access, int | None]:
        repo = get_visible_repo(self.user, owner, name)
        access = rooms.room_access(self.user, self.token, repo.pk)
        if access.room is None:
            raise Http404(f"Repository {owner}/{name} not found.")
        # Opening the room reads it: its unread marker and mentions clear on every device.
        if not self.user.is_authenticated:
            return access, None
        return access, reading.room_mark_read(self.user, access.room).before

    async def _recheck(self) -> rooms.Access | None:
        """Access now; when it is gone, the socket is told why and closed (None)."""
        access = await database_sync_to_async(rooms.room_access)(self.user, self.token, self.repo_pk)
        if access.room is None:
            await self._revoke()
            return None
        self.room = access.room
        return access

    async def _revoke(self) -> None:
        if self.revoked:
            return
        self.revoked = True  # from here on, no frame of the room reaches this socket
        await self._send({"type": "error", "code": "access_revoked", "message": "You can no longer see this room."})
        await self.close(code=CLOSE_NO_ACCESS)

    async def access_changed(self) -> None:
        """Called by the relay when the room's visibility or someone's rights changed."""
        if self.revoked or self.room is None:
            return
        access = await self._recheck()
        if access is None:
            return
        if (access.can_post, access.moderator) != (self.access.can_post, self.access.moderator):
            await self._send({"type": "access", "can_post": access.can_post, "moderator": access.moderator})
        self.access = access

    def offer(self, text: str) -> None:
        """Called by the relay for every frame of the room; never waits (see outbox.py)."""
        if self.revoked:
            return
        if self.pending is not None:
            self.pending.append(text)
            return
        self.outbox.offer(text)

    async def _send_text(self, text: str) -> None:
        await self.send(text_data=text)

    async def _too_slow(self) -> None:
        log.info("room %s: a socket fell %s frames behind; closing it", self.repo_pk, outbox.LIMIT)
        await self.close(code=outbox.CLOSE_TOO_SLOW)

    async def disconnect(self, code: int) -> None:
        self.outbox.stop()
        if self.room is None:
            return
        await get_relay().leave(self.repo_pk, self)
        if self.user.is_authenticated:
            online, went_offline = await database_sync_to_async(presence.presence_leave)(
                self.room, self.user, self.conn
            )
            if went_offline:
                await publish(self.repo_pk, {"type": "presence", "online": online})

    async def dispatch(self, message: dict) -> None:
        # Channels closes stale DB connections before every frame (a thread hop
        # each); database_sync_to_async already does that around each query.
        handler = getattr(self, message["type"].replace(".", "_"), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if self.revoked:
            return
        frame = None
        try:
            frame = orjson.loads(text_data if text_data is not None else bytes_data)
            if not isinstance(frame, dict):
                raise ValueError
            kind = frame.get("type")
            handler = getattr(self, f"on_{kind}", None)
            if handler is None:
                raise rooms.RoomError("invalid", f"Unknown frame type {kind!r}.")
            if kind in READ_FRAMES or kind in WRITE_FRAMES:
                access = await self._recheck()
                if access is None:
                    return
                self.access = access
                if kind in WRITE_FRAMES and not access.can_write:
                    raise rooms.RoomError("read_only", READ_ONLY_TOKEN_MESSAGE)
            await handler(frame)
        except ValueError:
            await self._send({"type": "error", "code": "invalid", "message": "Frames must be JSON objects."})
        except rooms.RoomError as err:
            reply = err.frame()
            # The refusal names the frame it answers, so the page keeps that text and shows why.
            if isinstance(frame, dict):
                reply["for"] = str(frame.get("type"))[:32]
                if isinstance(frame.get("client_id"), str) and frame["client_id"]:
                    reply["client_id"] = frame["client_id"][:64]
            await self._send(reply)

    async def _send(self, frame: dict) -> None:
        await self.send(text_data=encode(frame))

    # -- client frames ------------------------------------------------------------
    async def on_message(self, frame: dict) -> None:
        # With "thread": a comment of that discussion or pull request (it appears in the HF API too).
        await database_sync_to_async(threads.room_reply)(
            self.room,
            self.user,
            frame.get("body"),
            thread_num=frame.get("thread"),
            client_id=frame.get("client_id") or "",
            reply_to=frame.get("reply_to"),
        )

    async def on_history(self, frame: dict) -> None:
        messages = await database_sync_to_async(rooms.history)(
            self.room, after=frame.get("after"), before=frame.get("before"), limit=frame.get("limit")
        )
        await self._send({"type": "history", "messages": messages})

    async def on_edit(self, frame: dict) -> None:
        await database_sync_to_async(rooms.message_edit)(self.room, self.user, frame.get("id"), frame.get("body"))

    async def on_delete(self, frame: dict) -> None:
        await database_sync_to_async(rooms.message_delete)(self.room, self.user, frame.get("id"))

    async def on_ban(self, frame: dict) -> None:
        ban = await database_sync_to_async(rooms.room_ban)(
            self.room, self.user, frame.get("user"), frame.get("minutes"), frame.get("reason") or ""
        )
        until = ban.until.isoformat() if ban else None
        await self._send({"type": "banned", "user": frame.get("user"), "until": until})

    async def on_react(self, frame: dict) -> None:
        await database_sync_to_async(reactions.reaction_toggle)(
            self.room, self.user, frame.get("id"), frame.get("emoji")
        )

    async def on_read(self, frame: dict) -> None:
        if not isinstance(frame.get("id"), int):
            raise rooms.RoomError("invalid", "id must be a message id.")
        marks = await database_sync_to_async(reading.room_mark_read)(self.user, self.room, frame["id"])
        await self._send({"type": "read", "last_read": marks.now})

    async def on_typing(self, frame: dict) -> None:
        if not self.access.can_post:
            raise rooms.RoomError("not_allowed", "You cannot post in this room.")
        now = time.monotonic()
        if now - self.last_typing < TYPING_EVERY:
            return  # typing is a hint: extra frames are dropped, not refused
        self.last_typing = now
        await publish(self.repo_pk, {"type": "typing", "user": self.user.username})

    async def on_ping(self, frame: dict) -> None:
        await self._send({"type": "pong"})
