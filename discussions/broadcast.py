"""Getting a frame to every socket in a room, in this process and in all others.

A frame is encoded once. The process that saved it hands it straight to its
own relay (no round trip through the channel layer for local sockets) and
sends one copy to the room's layer group, where each other web process has a
single subscription (``relay.py``) that fans it out to its sockets.
"""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync

from discussions.layer import encode, layer_send
from discussions.relay import current_relay, running_relay

log = logging.getLogger(__name__)


async def publish(repo_pk: int, frame: dict, *, seq: int | None = None) -> None:
    """Deliver ``frame`` to the room's local sockets now, and to every other process via the layer."""
    text = encode(frame)
    relay = current_relay()
    if relay is not None:
        relay.deliver(repo_pk, text, seq)
    await layer_send(repo_pk, text, seq)


def broadcast(repo_pk: int, frame: dict, *, seq: int | None = None) -> None:
    """Sync entry point, for ``transaction.on_commit`` callbacks in web and worker processes.

    In a web process the frame is handed to the relay's event loop without
    waiting: the database thread that committed goes back to work at once
    (waiting for the layer here would serialise every post behind it). A
    process without a relay (the Celery worker) sends through the layer and waits.
    """
    try:
        found = running_relay()
        if found is not None:
            loop, relay = found
            loop.call_soon_threadsafe(relay.publish_nowait, repo_pk, encode(frame), seq)
            return
        async_to_sync(publish)(repo_pk, frame, seq=seq)
    except Exception:  # noqa: BLE001 - never fail the caller's commit hook
        log.warning("could not broadcast to room %s", repo_pk, exc_info=True)
