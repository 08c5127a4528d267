"""The floor for bench_ingest: an ASGI app that reads a request body and throws it away."""

try:  # the body read-ahead hub/asgi.py gives uvicorn (HUB_HTTP_BODY_BUFFER's default)
    from uvicorn.protocols.http import httptools_impl

    httptools_impl.HIGH_WATER_LIMIT = 4 * 1024 * 1024
except ImportError:
    pass


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b'{"manifest": [{"sha256": ""}], "size": %d}' % size
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})
