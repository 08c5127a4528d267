"""The channel layer's part of the rooms: frame encoding, group names, and one send to every other process.

Below both the relay (which receives) and ``broadcast.py`` (which hands
frames to the relay); it imports neither.
"""

from __future__ import annotations

import logging
import uuid

import orjson
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)

# Tags frames this process sent, so its subscription skips their echo.
PROCESS_ID = uuid.uuid4().hex


def room_group(repo_pk: int) -> str:
    return f"room-{repo_pk}"


def encode(frame: dict) -> str:
    return orjson.dumps(frame).decode()


async def layer_send(repo_pk: int, text: str, seq: int | None) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        await layer.group_send(
            room_group(repo_pk), {"type": "room.frame", "text": text, "seq": seq, "origin": PROCESS_ID}
        )
    except Exception:  # noqa: BLE001 - the row is saved; other processes catch up from the DB
        log.warning("channel layer unavailable; room %s frame not relayed", repo_pk, exc_info=True)
