"""Each socket's own queue of outgoing room frames, so one slow reader never holds up a room.

The relay hands every frame to every socket of the room without waiting
(``offer``); each socket's writer task sends its frames in order through the
consumer's ``send``. A server waits in ``send`` while a client does not
read (flow control): only that socket's writer waits then. A socket that
falls ``LIMIT`` frames behind is closed with code 4008; its client reconnects
and asks for what it missed by id, as after any drop.

Batching is free: during a burst the relay queues many frames before any
writer runs, and a writer sends all it has before it sleeps again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

LIMIT = 2000  # frames; at most a few MiB of text per lagging socket
CLOSE_TOO_SLOW = 4008


class Outbox:
    def __init__(self, send: Callable[[str], Awaitable[None]], on_overflow: Callable[[], Awaitable[None]]):
        """``send(text)`` sends one text frame to the client; ``on_overflow()`` closes the socket."""
        self._send = send
        self._on_overflow = on_overflow
        self._frames: deque[str] = deque()
        self._wake: asyncio.Future | None = None
        self._task: asyncio.Task | None = None
        self.overflowed = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._write())

    def offer(self, text: str) -> None:
        """Queue a frame (never waits). Past the limit the socket is dropped instead."""
        if self.overflowed:
            return
        if len(self._frames) >= LIMIT:
            self.overflowed = True
            self._frames.clear()
            asyncio.get_running_loop().create_task(self._on_overflow())
            return
        self._frames.append(text)
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    async def _write(self) -> None:
        frames = self._frames
        while True:
            while frames:
                try:
                    await self._send(frames.popleft())
                except Exception:  # noqa: BLE001 - the socket closed under us; disconnect stops the writer
                    log.debug("room frame not sent: socket gone", exc_info=True)
                    return
            self._wake = asyncio.get_running_loop().create_future()
            await self._wake
            self._wake = None

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
