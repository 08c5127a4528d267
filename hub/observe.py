"""The outermost ASGI layer: request ids, the access log, request metrics and ``/livez``.

It wraps everything in ``hub/asgi.py`` (the URL guard, the raw-bytes app,
Django, the websockets), so every answer, error answers and bulk downloads
included, carries ``X-Request-Id``, is counted once and logged once as one
structured line. uvicorn's own access log is off for that reason (settings.LOGGING).

``/livez`` is answered here, without Django, a thread or the database: it says
the process's event loop turns. ``/readyz`` (Django, ``hub/views.py``) says
whether it can serve: database, channel layer and broker.
"""

from __future__ import annotations

import json
import logging
import time

from hub import metrics, outage, requestid

access_log = logging.getLogger("hub.access")

LIVEZ_PATH = "/livez"
ROUTE_KEY = "hub.route"  # scope key: the route name, set by whatever serves the request


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _printable(path: str) -> str:
    """The path with control characters escaped: a log line stays one line (UrlGuard refuses them anyway)."""
    return path if path.isprintable() else "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in path)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _method_label(scope) -> str:
    return scope["method"] if scope["method"] in _METHODS else "other"  # labels stay a small, fixed set


def _route_label(scope) -> str:
    return scope.get(ROUTE_KEY) or "unmatched"


async def _answer_json(send, status: int, body: dict, request_id: str, head: bool = False) -> None:
    data = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        (b"cache-control", b"no-store"),
        (requestid.HEADER.lower().encode(), request_id.encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else data})


class ObserveApp:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            return await self._http(scope, receive, send)
        if scope["type"] == "websocket":
            return await self._websocket(scope, receive, send)
        return await self.app(scope, receive, send)

    async def _http(self, scope, receive, send):
        request_id = requestid.sane_or_new(_header(scope, b"x-request-id"))
        scope["request_id"] = request_id
        token = requestid.bind(request_id)
        started = time.perf_counter()
        state = {"status": None, "bytes": 0}
        header = (requestid.HEADER.lower().encode(), request_id.encode())

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                headers = [item for item in message.get("headers", ()) if item[0].lower() != header[0]]
                message = {**message, "headers": [*headers, header]}
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            if scope["path"] == LIVEZ_PATH and scope["method"] in ("GET", "HEAD"):
                scope[ROUTE_KEY] = "livez"
                await _answer_json(send_with_id, 200, {"status": "alive"}, request_id, scope["method"] == "HEAD")
                return None
            try:
                return await self.app(scope, receive, send_with_id)
            except Exception as exc:  # noqa: BLE001 - whatever escaped the app is logged here, once, with the id
                access_log.exception("unhandled error serving %s %s", scope["method"], _printable(scope["path"]))
                if state["status"] is None:  # nothing sent yet: JSON with the id, never a traceback
                    status, message = 500, "Internal server error."
                    if outage.database_unavailable(exc):
                        status, message = 503, outage.MESSAGE
                    body = {"error": message, "detail": None, "request_id": request_id}
                    await _answer_json(send_with_id, status, body, request_id)
                return None
        finally:
            self._record(scope, state, time.perf_counter() - started)
            requestid.unbind(token)

    @staticmethod
    def _record(scope, state, seconds: float) -> None:
        status = state["status"] or 499  # the client left before any answer (nginx's code for it)
        route, method = _route_label(scope), _method_label(scope)
        metrics.REQUESTS.labels(method, route, str(status)).inc()
        metrics.LATENCY.labels(method, route).observe(seconds)
        path = _printable(scope["path"])
        access_log.info(
            "%s %s %s",
            scope["method"],
            path,
            status,
            extra={
                "method": scope["method"],
                "path": path,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
                "response_bytes": state["bytes"],
                "client": (scope.get("client") or ("-",))[0],
            },
        )

    async def _websocket(self, scope, receive, send):
        request_id = requestid.sane_or_new(_header(scope, b"x-request-id"))
        scope["request_id"] = request_id
        token = requestid.bind(request_id)
        kind = "room" if scope["path"].startswith("/ws/models/") else "other"
        accepted = False

        async def counting_send(message):
            nonlocal accepted
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                metrics.WEBSOCKETS.labels(kind).inc()
                headers = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            return await self.app(scope, receive, counting_send)
        finally:
            if accepted:
                metrics.WEBSOCKETS.labels(kind).dec()
            requestid.unbind(token)


class RouteNameMiddleware:
    """Django middleware: names the matched route in the ASGI scope, for the metrics' ``route`` label.

    A label per URL would be unbounded (every repo is a path); the route's name is not.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        scope = getattr(request, "scope", None)
        if scope is not None and request.resolver_match is not None:
            scope[ROUTE_KEY] = request.resolver_match.view_name
        return None
