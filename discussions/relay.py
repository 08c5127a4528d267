"""One subscription per room per web process, fanning frames out to its sockets.

Channels' usual pattern (every consumer joins the room's group) makes the
layer send one copy per socket: channels-redis then pays a Redis round trip
per socket and a 1,000-socket room delivers at a fraction of a plain
websocket server's rate (bench/bench_room_fanout.py). Here each process joins
a room's group once, with one channel of its own, receives each frame once,
and sends it to every local socket through the socket's consumer (Channels'
own ``send``) from one task per room, which also keeps frames in order.

Messages carry their room ``seq``. A relay that sees a gap (a frame lost
while Redis restarted, or two commits broadcast out of order) reads the
missing rows from the database before going on, and a periodic sweep does
the same for a loss nothing follows; so every saved message reaches every
socket, in order, once.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from datetime import timedelta
from typing import Protocol

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from discussions.frames import message_frame, with_reactions
from discussions.layer import PROCESS_ID, encode, layer_send, room_group
from models_app.repos.events import ACCESS_EVENT, live_group

log = logging.getLogger(__name__)

SWEEP_SECONDS = 5.0
PRESENCE_STALE = timedelta(seconds=60)
CATCH_UP = object()  # a queue item: read what the DB has beyond last_seq
ACCESS = object()  # a queue item: rights changed, every socket re-checks its own


class Member(Protocol):
    def offer(self, text: str) -> None: ...

    async def access_changed(self) -> None: ...


def _room_last_seq(repo_pk: int) -> int:
    from discussions.models import Room

    return Room.objects.filter(repo_id=repo_pk).values_list("last_seq", flat=True).first() or 0


def _rows_after(repo_pk: int, after: int) -> list[tuple[str, int]]:
    from discussions.models import Message

    rows = with_reactions(Message.objects.filter(room__repo_id=repo_pk, seq__gt=after)).order_by("seq")
    return [(encode(message_frame(m)), m.seq) for m in rows[:1000]]


def _sweep_db(repo_pks: list[int]) -> dict[int, int]:
    from discussions.models import Presence, Room

    now = timezone.now()
    Presence.objects.filter(process=PROCESS_ID).update(seen=now)
    Presence.objects.filter(seen__lt=now - PRESENCE_STALE).delete()
    return dict(Room.objects.filter(repo_id__in=repo_pks).values_list("repo_id", "last_seq"))


class RoomSubscription:
    def __init__(self, repo_pk: int):
        self.repo_pk = repo_pk
        self.members: set = set()
        self.queue: asyncio.Queue = asyncio.Queue()
        self.last_seq = 0
        self.channel: str | None = None
        self.tasks: list[asyncio.Task] = []
        self.layer = get_channel_layer()

    async def subscribe(self) -> None:
        """Join the room's and the model's live group with this process's channel (idempotent)."""
        if self.layer is None:
            return
        if self.channel is None:
            self.channel = await self.layer.new_channel()
        await self.layer.group_add(room_group(self.repo_pk), self.channel)
        await self.layer.group_add(live_group(self.repo_pk), self.channel)

    async def start(self) -> None:
        await self.subscribe()
        self.last_seq = await database_sync_to_async(_room_last_seq)(self.repo_pk)
        self.tasks = [asyncio.create_task(self._fanout())]
        if self.layer is not None:
            self.tasks.append(asyncio.create_task(self._receive()))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self.layer is not None and self.channel is not None:
            try:
                await self.layer.group_discard(room_group(self.repo_pk), self.channel)
                await self.layer.group_discard(live_group(self.repo_pk), self.channel)
            except Exception:  # noqa: BLE001 - memberships expire on their own
                log.info("could not leave groups of room %s", self.repo_pk, exc_info=True)

    async def _receive(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis down: the sweep re-subscribes and catches up
                log.warning("room %s: channel layer receive failed", self.repo_pk, exc_info=True)
                await asyncio.sleep(1)
                continue
            kind = message.get("type")
            if kind == "room.frame":
                if message.get("origin") != PROCESS_ID:
                    self.queue.put_nowait((message["text"], message.get("seq")))
            elif kind == "hub.event" and message.get("event") == ACCESS_EVENT:
                self.queue.put_nowait((ACCESS, None))
            elif kind == "hub.event":
                frame = {"type": "event", "event": message.get("event"), "data": message.get("data")}
                self.queue.put_nowait((encode(frame), None))

    async def _fanout(self) -> None:
        while True:
            text, seq = await self.queue.get()
            try:
                if text is ACCESS:
                    # In queue order: frames sent after the change reach only sockets that kept access.
                    for member in list(self.members):
                        await member.access_changed()
                    continue
                if text is CATCH_UP or (seq is not None and seq > self.last_seq + 1):
                    for row_text, row_seq in await database_sync_to_async(_rows_after)(self.repo_pk, self.last_seq):
                        if seq is not None and text is not CATCH_UP and row_seq >= seq:
                            break
                        self.last_seq = row_seq
                        await self._send_all(row_text)
                    if text is CATCH_UP:
                        continue
                if seq is not None:
                    if seq <= self.last_seq:
                        continue  # already delivered (a catch-up got there first)
                    self.last_seq = seq
                await self._send_all(text)
            except Exception:  # noqa: BLE001 - one bad frame must not stop the room
                log.exception("room %s: fan-out failed", self.repo_pk)

    async def _send_all(self, text: str) -> None:
        for member in list(self.members):
            member.offer(text)  # queued per socket: a slow reader holds up only itself


class RoomRelay:
    """The relay of one event loop (one per web process; tests may run several loops)."""

    def __init__(self) -> None:
        self.rooms: dict[int, RoomSubscription] = {}
        self.lock = asyncio.Lock()
        self.sweeper: asyncio.Task | None = None
        self.sends: set[asyncio.Task] = set()

    async def join(self, repo_pk: int, member) -> int:
        """Add a socket to its room; returns the id up to which the DB holds everything it missed."""
        async with self.lock:
            sub = self.rooms.get(repo_pk)
            if sub is None:
                sub = RoomSubscription(repo_pk)
                await sub.start()
                self.rooms[repo_pk] = sub
            sub.members.add(member)
            if self.sweeper is None or self.sweeper.done():
                self.sweeper = asyncio.create_task(self._sweep())
            return sub.last_seq

    async def leave(self, repo_pk: int, member) -> None:
        async with self.lock:
            sub = self.rooms.get(repo_pk)
            if sub is None:
                return
            sub.members.discard(member)
            if not sub.members:
                del self.rooms[repo_pk]
                await sub.stop()

    def deliver(self, repo_pk: int, text: str, seq: int | None = None) -> None:
        """Queue a frame for the room's local sockets (from this loop only)."""
        sub = self.rooms.get(repo_pk)
        if sub is not None:
            sub.queue.put_nowait((text, seq))

    def publish_nowait(self, repo_pk: int, text: str, seq: int | None) -> None:
        """Local sockets now; other processes through the layer, in the background.

        Layer sends may then overtake each other; receiving relays put
        messages back in order by ``seq`` (a gap is read from the database).
        """
        self.deliver(repo_pk, text, seq)
        task = asyncio.get_running_loop().create_task(layer_send(repo_pk, text, seq))
        self.sends.add(task)  # keep a reference until done (asyncio holds tasks weakly)
        task.add_done_callback(self.sends.discard)

    async def _sweep(self) -> None:
        while self.rooms:
            await asyncio.sleep(SWEEP_SECONDS)
            subs = list(self.rooms.values())
            try:
                for sub in subs:
                    # A restarted Redis forgot every group: joining again is idempotent.
                    await sub.subscribe()
                last = await database_sync_to_async(_sweep_db)([s.repo_pk for s in subs])
            except Exception:  # noqa: BLE001 - try again next round
                log.warning("room sweep failed", exc_info=True)
                continue
            for sub in subs:
                if last.get(sub.repo_pk, 0) > sub.last_seq:
                    sub.queue.put_nowait((CATCH_UP, None))


_relays: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def current_relay() -> RoomRelay | None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return None
    return _relays.get(loop)


def running_relay() -> tuple[asyncio.AbstractEventLoop, RoomRelay] | None:
    """From any thread: the relay of a running event loop in this process, if there is one."""
    for loop, relay in list(_relays.items()):
        if loop.is_running() and not loop.is_closed():
            return loop, relay
    return None


def get_relay() -> RoomRelay:
    loop = asyncio.get_running_loop()
    relay = _relays.get(loop)
    if relay is None:
        relay = _relays[loop] = RoomRelay()
    return relay
