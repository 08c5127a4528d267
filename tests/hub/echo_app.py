"""An ASGI app for tests/hub/test_httpproto.py: answers what it received of each request body."""

import asyncio
import hashlib
import json


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    digest, size, messages, types = hashlib.sha256(), 0, 0, set()
    if scope["path"] != "/early":  # /early answers without reading the body
        while True:
            message = await receive()
            body = message.get("body", b"")
            types.add(type(body).__name__)
            digest.update(body)
            size += len(body)
            messages += 1
            if not message.get("more_body"):
                break
    answer = {"size": size, "sha256": digest.hexdigest(), "messages": messages, "types": sorted(types)}
    if scope["path"] == "/then-wait":
        # After the last body message, receive() must wait for the disconnect (Django relies on it).
        try:
            answer["after_body"] = (await asyncio.wait_for(receive(), 0.3))["type"]
        except TimeoutError:
            answer["after_body"] = "nothing"
    body = json.dumps(answer).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
