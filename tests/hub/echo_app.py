"""An ASGI app for tests/hub/test_httpproto.py: answers what it received of each request body.

``/socket`` reads the body through the protocol's ``SocketBody`` on a thread
(as the upload routes do), ``/socket-stop`` reads 1 MiB of it that way and
answers at once (as a refused upload does); ``/last`` tells how the last
``/socket`` read ended. Any other path reads with ``receive()``.
"""

import asyncio
import hashlib
import json

LAST: dict = {}


def _read_socket(body, digest, stop: int | None) -> tuple[int, set, str]:
    size, types = 0, set()
    try:
        for piece in body.take_pieces():
            types.add(type(piece).__name__)
            digest.update(piece)
            size += len(piece)
        buffer = bytearray(256 * 1024)
        while body.left and (stop is None or size < stop):
            received = body.recv_into(buffer)
            digest.update(memoryview(buffer)[:received])
            size += received
        return size, types | {"socket"}, "end of body" if not body.left else "stopped"
    except ConnectionError:
        return size, types | {"socket"}, "client left"
    finally:
        body.done_reading()


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["path"] == "/last":
        await answer(send, LAST)
        return
    digest, size, messages, types = hashlib.sha256(), 0, 0, set()
    socket_body = scope.get("extensions", {}).get("hub.socket_body")
    if scope["path"].startswith("/socket") and socket_body is not None and socket_body.open():
        stop = 1024 * 1024 if scope["path"] == "/socket-stop" else None
        try:
            size, types, LAST["ended"] = await asyncio.to_thread(_read_socket, socket_body, digest, stop)
        finally:
            socket_body.close()
        if LAST["ended"] == "client left":
            return
    elif scope["path"] != "/early":  # /early answers without reading the body
        while True:
            message = await receive()
            body = message.get("body", b"")
            types.add(type(body).__name__)
            digest.update(body)
            size += len(body)
            messages += 1
            if not message.get("more_body"):
                break
    result = {"size": size, "sha256": digest.hexdigest(), "messages": messages, "types": sorted(types)}
    if scope["path"] == "/then-wait":
        # After the last body message, receive() must wait for the disconnect (Django relies on it).
        try:
            result["after_body"] = (await asyncio.wait_for(receive(), 0.3))["type"]
        except TimeoutError:
            result["after_body"] = "nothing"
    await answer(send, result, close=scope["path"] == "/socket-stop")


async def answer(send, result: dict, *, close: bool = False) -> None:
    body = json.dumps(result).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
