"""uvicorn's httptools protocol, handing request bodies to the app as the bytes the socket gave.

Stock uvicorn copies every body byte three times before the app sees it:
httptools slices each body piece out of what the socket read, uvicorn appends
the pieces to a ``bytearray``, and ``receive()`` copies that into ``bytes``.
For a multi-GiB upload those copies cost as much CPU as hashing the bytes
(``bench/bench_ingest.py`` prints the floor of both protocols). This protocol:

- once a request with a ``Content-Length`` (not chunked, not an upgrade) is in
  its body, stops feeding httptools and takes each read's bytes as they are,
  slicing only a read that runs past the body's end; when the body ends it
  answers for the parser (``on_message_complete``) and starts a fresh parser
  for the next request on the connection;
- queues body pieces in a list, and ``receive()`` hands out one piece per
  message, so nothing is joined or copied on the way to the app.

An app may also read the rest of such a body straight from the socket, on a
thread of its own: ``scope["extensions"]["hub.socket_body"]`` is a
``SocketBody`` (``open`` on the event loop, ``recv_into`` on the thread,
``close`` on the event loop again). That skips the event loop for the body altogether:
no per-read callback, no copy of each read into a fresh ``bytes`` by uvloop,
no hand-off of every batch to the thread; the kernel copies each read once,
into the object the app gets. ``models_app/streaming.py`` uses it for uploads.

Everything else (headers, chunked bodies, websocket upgrades, pipelining,
responses) is uvicorn's own code. Selected with ``--http
hub.httpproto:HubHttpProtocol`` (hub/webserver.py).
"""

from __future__ import annotations

import collections
import os
import socket

import httptools
from uvicorn.protocols.http import httptools_impl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle


def read_ahead() -> int:
    """Body bytes read ahead per connection before reading pauses: uvicorn's own limit, which
    ``webserver.tune_uvicorn`` sets from HUB_HTTP_BODY_BUFFER (one knob for both protocols)."""
    return httptools_impl.HIGH_WATER_LIMIT


class BodyQueue:
    """A request's body pieces waiting for ``receive()``: bytes objects, never copied."""

    __slots__ = ("pieces", "size")

    def __init__(self):
        self.pieces: collections.deque[bytes] = collections.deque()
        self.size = 0

    def append(self, piece: bytes) -> None:
        self.pieces.append(piece)
        self.size += len(piece)

    def pop(self) -> bytes:
        piece = self.pieces.popleft()
        self.size -= len(piece)
        return piece

    def __len__(self) -> int:
        return self.size


SOCKET_BODY = "hub.socket_body"  # the scope extension that offers a SocketBody
# A read through SocketBody that waits this long for a byte ends the upload (the client stalled),
# unless the app's open() says otherwise (the hub's HUB_UPLOAD_IDLE_TIMEOUT).
SOCKET_BODY_IDLE_TIMEOUT = 120.0


class SocketBody:
    """The rest of one request's body, read from the socket by a thread of the app's.

    ``open()`` (event loop) stops the event loop reading the connection and
    answers False when the body cannot be read this way (chunked, TLS, already
    answered): the app then uses ``receive()`` as usual. Then, on any one
    thread: ``take_pieces()`` (what the event loop had read already), then
    ``recv`` or ``recv_into`` until ``left`` is 0; they never read past the
    body's end, raise ``ConnectionError`` when the client goes away and
    ``TimeoutError`` when it stalls; then ``done_reading()``. ``close()``
    (event loop, after that) gives the connection back: the body ended (the
    next request may follow on it) or, if the app stopped early, the rest is
    read the usual way (and dropped once the app has answered).
    """

    def __init__(self, protocol: HubHttpProtocol, cycle: HubCycle):
        self._protocol, self._cycle = protocol, cycle
        self._pieces: collections.deque[bytes] = collections.deque()
        self._sock: socket.socket | None = None
        self._open = False
        self._client_left = False
        self.left = 0  # body bytes still in the socket

    def open(self, idle_timeout: float = SOCKET_BODY_IDLE_TIMEOUT) -> bool:
        protocol, cycle = self._protocol, self._cycle
        if (
            self._open
            or protocol.cycle is not cycle
            or cycle.disconnected
            or cycle.response_complete
            or protocol.transport.is_closing()
            or protocol.transport.get_extra_info("ssl_object") is not None
            or (cycle.more_body and not protocol._left)  # httptools is reading it (chunked)
        ):
            return False
        if cycle.waiting_for_100_continue:
            protocol.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            cycle.waiting_for_100_continue = False
        protocol.flow.pause_reading()
        self._pieces.extend(cycle.body.pieces)
        cycle.body = BodyQueue()
        self.left = protocol._left if cycle.more_body else 0
        if self.left:
            raw = protocol.transport.get_extra_info("socket")
            # A duplicate descriptor of the connection: still non-blocking (uvloop's), so the
            # timeout makes each recv wait in poll() with the GIL released.
            self._sock = socket.socket(fileno=os.dup(raw.fileno()))
            self._sock.settimeout(idle_timeout)
        self._open = True
        return True

    def take_pieces(self) -> list[bytes]:
        """The body bytes the event loop had read before ``open``: they come first."""
        pieces = list(self._pieces)
        self._pieces.clear()
        return pieces

    def recv(self, size: int) -> bytes:
        """At most ``size`` bytes of the rest of the body; ``b""`` at its end."""
        if not self.left:
            return b""
        data = self._received(lambda: self._sock.recv(min(size, self.left)))
        self.left -= len(data)
        return data

    def recv_into(self, buffer) -> int:
        """Read the rest of the body into ``buffer`` (at most its length); 0 at its end."""
        if not self.left:
            return 0
        received = self._received(lambda: self._sock.recv_into(buffer, min(len(buffer), self.left)))
        self.left -= received
        return received

    def _received(self, read):
        try:
            result = read()
        except ConnectionError:
            self._client_left = True
            raise
        if not result:
            self._client_left = True
            raise ConnectionResetError("the client closed the connection before the end of the body")
        return result

    def done_reading(self) -> None:
        """The reading thread is through (any thread): the duplicate descriptor goes; the connection stays."""
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def abandon(self) -> None:
        """The app gave up while its thread may still be in ``read`` (its task was cancelled): drop the connection."""
        self._open = False
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a recv waiting in the other thread
            except OSError:
                pass
        self._protocol.transport.close()

    def close(self) -> None:
        if not self._open:
            return
        self._open = False
        self.done_reading()
        protocol, cycle = self._protocol, self._cycle
        if self._client_left:
            # The event loop has not seen the end of the connection (it was not reading): say it
            # now, as receive() would have, and let the connection go.
            cycle.disconnected = True
            cycle.message_event.set()
            protocol.transport.close()
            return
        protocol._left = self.left
        if cycle.more_body and not self.left:
            protocol._body_complete()
        for piece in self._pieces:  # never taken: back to receive()
            cycle.body.append(piece)
        self._pieces.clear()
        if not protocol.transport.is_closing():
            protocol.flow.resume_reading()


class HubCycle(RequestResponseCycle):
    """uvicorn's request/response cycle with a ``BodyQueue`` for the body (set by the protocol)."""

    body: BodyQueue
    ended = False  # the message with more_body False has been handed out

    async def receive(self):
        if self.waiting_for_100_continue and not self.transport.is_closing():
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.waiting_for_100_continue = False
        if not (self.disconnected or self.response_complete) and len(self.body) < read_ahead():
            self.flow.resume_reading()
        # The event only wakes this up; the state is in the flags and the queue. After the last
        # body message, the next receive() waits for the disconnect (Django listens for it).
        while not (
            self.disconnected or self.response_complete or self.body.pieces or not (self.more_body or self.ended)
        ):
            self.message_event.clear()
            await self.message_event.wait()
        if self.disconnected or self.response_complete:
            return {"type": "http.disconnect"}
        body = self.body.pop() if self.body.pieces else b""
        more = self.more_body or bool(self.body.pieces)
        self.ended = not more
        return {"type": "http.request", "body": body, "more_body": more}


class HubHttpProtocol(HttpToolsProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._length: int | None = None  # Content-Length of the request being parsed, when it may bypass
        self._seen = 0  # its body bytes so far
        self._left = 0  # body bytes still to come past the parser (0: the parser reads)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._length, self._seen = None, 0

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if type(self.cycle) is RequestResponseCycle:
            # uvicorn built its cycle (its task has not run yet): give it the body queue.
            self.cycle.__class__ = HubCycle
            self.cycle.body = BodyQueue()
        if self.parser.should_upgrade():
            return
        length = None
        for name, value in self.headers:
            if name == b"transfer-encoding":
                return  # chunked: httptools decodes it
            if name == b"content-length":
                length = int(value) if value.isdigit() else None  # the parser has already refused a bad one
        self._length = length
        if length:  # only a Content-Length body can be read off the socket
            self.scope.setdefault("extensions", {})[SOCKET_BODY] = SocketBody(self, self.cycle)

    def on_body(self, body: bytes) -> None:
        self._seen += len(body)
        if not (self.parser.should_upgrade() and self._should_upgrade()):  # as uvicorn's on_body
            self._queue(body)

    def _queue(self, body: bytes) -> None:
        if self.cycle.response_complete:
            return  # answered already (413 before the body ended): the rest is read and dropped
        self.cycle.body.append(body)
        if len(self.cycle.body) > read_ahead():
            self.flow.pause_reading()
        self.cycle.message_event.set()

    def data_received(self, data: bytes) -> None:
        if not self._left:
            super().data_received(data)
            if (
                self._length is not None
                and self._seen < self._length
                and self.parser is not None
                and not self.transport.is_closing()
            ):
                self._left = self._length - self._seen  # in the body: the parser is bypassed from here
            return
        self._unset_keepalive_if_required()
        if len(data) <= self._left:
            self._left -= len(data)
            self._queue(data)
            rest = b""
        else:
            rest = data[self._left :]
            self._queue(data[: self._left])
            self._left = 0
        if not self._left:
            self._body_complete()
            if rest:
                self.data_received(rest)

    def _body_complete(self) -> None:
        """The bypassed body ended: the request is complete, and a fresh parser reads the next one."""
        self._length = None
        self.parser = httptools.HttpRequestParser(self)
        try:
            self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
        except AttributeError:  # pragma: no cover - httptools < 0.6.3, as uvicorn allows
            pass
        self.on_message_complete()
