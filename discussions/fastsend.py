"""Write one pre-encoded frame to many sockets, for rooms with many readers.

A server-to-client websocket frame is not masked, so the bytes of a frame are
the same for every socket: the relay encodes each frame once and, where the
server allows, writes those bytes straight to each socket's transport, as
``websockets.broadcast`` does. Through ASGI every socket would instead pay for
Channels' send wrapper, uvicorn's ``asgi_send`` and the library re-framing the
same text; in a 1,000-socket room that is most of the fan-out's cost
(bench/bench_room_fanout.py).

The fast path applies only to uvicorn's ``websockets`` protocol with the
socket open; anything else (another server, a test communicator) returns no
writer and the room uses plain ASGI sends. Frames are sent uncompressed (RSV1
clear), which RFC 7692 allows even when permessage-deflate was negotiated.
A socket whose unsent bytes pile up beyond ``MAX_BUFFER`` is a reader that
cannot keep up: it is dropped, and its client reconnects and resyncs by id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from websockets.frames import Frame, Opcode
from websockets.protocol import State

log = logging.getLogger(__name__)

MAX_BUFFER = 4 * 1024 * 1024


def encode_frame(text: str) -> bytes:
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


def frame_writer(raw_send) -> Callable[[bytes], bool] | None:
    """A function writing encoded frames to this socket (True when written), or None if unsupported."""
    protocol = getattr(raw_send, "__self__", None)
    if protocol is None or type(protocol).__module__ != "uvicorn.protocols.websockets.websockets_impl":
        return None

    def write(data: bytes) -> bool:
        transport = protocol.transport
        if protocol.state is not State.OPEN or transport is None or transport.is_closing():
            return False
        if transport.get_write_buffer_size() > MAX_BUFFER:
            log.info("dropping a socket that fell %d bytes behind", transport.get_write_buffer_size())
            transport.abort()
            return False
        transport.write(data)
        return True

    return write
