"""A small room client on the ``websockets`` library, for tests against a live hub."""

from __future__ import annotations

import asyncio
import json

import websockets


def make_repo(hub, owner: str, name: str, *, private: bool = False) -> None:
    """Create ``owner/name`` in a live hub as an operator would (the user must exist)."""
    hub.manage(
        "shell",
        "-c",
        "from hub.models import User; from models_app.models import ModelRepo; "
        f"ModelRepo.objects.get_or_create(owner=User.objects.get(username={owner!r}), name={name!r}, "
        f"defaults={{'private': {private!r}}})",
    )


def ws_url(base: str, room: str) -> str:
    return base.replace("http://", "ws://") + f"/ws/models/{room}/"


class RoomClient:
    def __init__(self, base: str, room: str, token: str | None = None, origin: str | None = None):
        self.url = ws_url(base, room)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.origin = origin
        self.ws = None
        self.hello: dict = {}
        self.messages: list[dict] = []  # every message frame received, live or from history, in arrival order

    async def open(self) -> RoomClient:
        self.ws = await websockets.connect(self.url, additional_headers=self.headers, origin=self.origin)
        self.hello = await self.next("hello")
        return self

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def next(self, kind: str, timeout: float = 15) -> dict:
        """The next frame of ``kind``; message frames met on the way are kept in ``messages``."""
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if frame["type"] == "message":
                self.messages.append(frame)
            if frame["type"] == kind:
                return frame

    async def post(self, body: str, **extra) -> None:
        await self.ws.send(json.dumps({"type": "message", "body": body, **extra}))

    async def wait_for_ids(self, last: int, timeout: float = 20) -> list[int]:
        """Receive until message ``last`` arrived; returns every id received so far."""
        while not self.messages or self.messages[-1]["id"] < last:
            await self.next("message", timeout)
        return [m["id"] for m in self.messages]

    async def resync(self) -> list[dict]:
        """Ask for everything after the newest id seen, as a reconnecting client does."""
        after = self.messages[-1]["id"] if self.messages else 0
        await self.ws.send(json.dumps({"type": "history", "after": after}))
        got = (await self.next("history"))["messages"]
        self.messages.extend(got)
        return got
