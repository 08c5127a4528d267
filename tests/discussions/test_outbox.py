"""A socket whose reader stalls holds up only itself; past the limit it is dropped, in order until then."""

from __future__ import annotations

import asyncio

from discussions import outbox
from discussions.outbox import Outbox


class Socket:
    """A socket's send: records frames; while ``stalled`` it waits, as a server does for a client that stopped reading."""

    def __init__(self, stalled: bool = False):
        self.frames: list[str] = []
        self.stalled = asyncio.Event()
        if not stalled:
            self.stalled.set()
        self.dropped = 0

    async def send(self, text: str) -> None:
        await self.stalled.wait()
        self.frames.append(text)

    async def overflow(self) -> None:
        self.dropped += 1


async def test_a_stalled_socket_does_not_hold_up_the_others():
    slow, fast = Socket(stalled=True), Socket()
    boxes = [Outbox(s.send, s.overflow) for s in (slow, fast)]
    for box in boxes:
        box.start()
    for n in range(100):
        for box in boxes:
            box.offer(f"m{n}")
    await asyncio.sleep(0.05)
    assert fast.frames == [f"m{n}" for n in range(100)]
    assert slow.frames == []
    slow.stalled.set()  # the reader catches up: everything arrives, in order
    await asyncio.sleep(0.05)
    assert slow.frames == fast.frames
    for box in boxes:
        box.stop()


async def test_a_socket_past_the_limit_is_dropped_once():
    slow = Socket(stalled=True)
    box = Outbox(slow.send, slow.overflow)
    box.start()
    for n in range(outbox.LIMIT + 50):
        box.offer(f"m{n}")
    await asyncio.sleep(0.05)
    assert slow.dropped == 1 and box.overflowed
    box.stop()
