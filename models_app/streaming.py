"""The raw-bytes app: upload bodies, downloads and Xet xorbs, served from the socket, before Django.

Django's ASGI handler reads the whole request body into a temp file before
any view runs, so a view could check limits only after storing every byte;
and its ``FileResponse`` under ASGI buffers files and ignores ``Range``.
``BytesApp`` (wired in ``hub/asgi.py``) serves the routes of one table,
``bytes_routes.BYTES_ROUTES``, and passes everything else to Django unchanged.

An upload route (``streamed``) gets a ``StreamRequest`` that

1. authenticates through ``hub.access.identify`` (Bearer token, or the session
   cookie plus the CSRF check), so the route can refuse early (401/403/404,
   and 413 from ``Content-Length`` before a byte of the body is read);
2. pulls the server's body messages and feeds them to a per-request worker
   thread in batches of about 4 MiB (never joined), at most
   ``PIPELINE_DEPTH`` batches in flight; the thread parses them and hands the
   bytes to a hash lane and a write lane (uploads.py);
3. answers 413 on the first chunk over a limit, with ``Connection: close``
   so the server stops reading the rest of the body, and 408 when the client
   sends nothing for ``HUB_UPLOAD_IDLE_TIMEOUT`` seconds mid-body.

``stream_body_into`` streams a raw body into one blob (size checked from
Content-Length first, digest at the end, nothing kept on failure);
``publish/stream.native_put`` is the worked example.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import functools
import io
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote

from django.conf import settings
from django.db import close_old_connections, connections

from hub import outage
from hub.api import ApiError
from hub.headers import header_safe
from hub.outage import database_unavailable

if TYPE_CHECKING:
    from models_app.models import Blob
    from models_app.publish.uploads import StagedFile

log = logging.getLogger(__name__)

BATCH_BYTES = 4 * 1024 * 1024
PIPELINE_DEPTH = 3
AsgiHandler = Callable[..., Awaitable[None]]  # (scope, receive, send, **url_groups)


@dataclass(frozen=True)
class BytesRoute:
    """One raw-bytes route: the ASGI handler serves it; ``fallback`` is the Django view of the same URL.

    The fallback serves where this app is absent (Django's test client, a WSGI
    deployment) and gives ``reverse()`` the route's name; both call the same
    service functions.
    """

    name: str
    methods: frozenset[str]
    pattern: str  # full match on the path, without the leading '/'
    serve: AsgiHandler
    fallback: Callable | None = None
    raw: bool = False  # match the still-quoted path: a revision like refs%2Fpr%2F1 is one segment
    kwargs: Mapping[str, str] = field(default_factory=dict)  # passed to both, as Django passes a route's kwargs

    def match(self, scope) -> dict[str, str] | None:
        if scope["method"] not in self.methods:
            return None
        if self.raw:
            path = (scope.get("raw_path") or scope["path"].encode()).split(b"?", 1)[0].decode("latin-1")
            found = self._regex.fullmatch(path[1:])
            if found is None:
                return None
            groups = {k: unquote(v, encoding="utf-8", errors="replace") for k, v in found.groupdict().items()}
            return {**groups, **self.kwargs}
        found = self._regex.fullmatch(scope["path"][1:])
        return None if found is None else {**found.groupdict(), **self.kwargs}

    @functools.cached_property
    def _regex(self) -> re.Pattern:
        return re.compile(self.pattern)


class BytesApp:
    """ASGI: the routes of ``routes`` here, everything else to ``app`` (Django)."""

    def __init__(self, app, routes):
        self.app = app
        self.routes = tuple(routes)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            for route in self.routes:
                params = route.match(scope)
                if params is not None:
                    scope["hub.route"] = route.name  # the metrics' route label (hub/observe.py)
                    return await route.serve(scope, receive, send, **params)
        await self.app(scope, receive, send)


def streamed(handler: Callable[..., Awaitable[None]]) -> AsgiHandler:
    """An ASGI handler from ``async def handler(request: StreamRequest, **url_groups)``.

    Refusals (``ApiError``) answer in the API's JSON shape; a bug still answers
    JSON and never leaves the client hanging; the request's thread is closed.
    """

    @functools.wraps(handler)
    async def serve(scope, receive, send, **params) -> None:
        request = StreamRequest(scope, receive, send)
        try:
            await handler(request, **params)
        except ApiError as exc:
            await request.respond_error(exc)
        except Exception as exc:  # noqa: BLE001 - a bug must still answer JSON, never hang the client
            log.exception("streamed %s %s failed", scope["method"], scope["path"])
            if database_unavailable(exc):  # nothing was committed: the client may retry (hub/outage.py)
                await request.respond_error(ApiError(outage.MESSAGE, status_code=503, code="DatabaseUnavailable"))
            else:
                await request.respond_error(ApiError("Internal error; it has been logged.", status_code=500))
        finally:
            await request.close()

    return serve


class StreamRequest:
    """One streamed request: its headers, a private worker thread for sync work, and replies."""

    def __init__(self, scope, receive, send):
        self.scope, self.receive, self.send = scope, receive, send
        self.headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        self.body_done = False
        self.responded = False
        # One thread per request: the ORM's connection is per thread, so every
        # query of this upload runs on one connection, closed in close().
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload")
        self._executor.submit(close_old_connections)

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("content-length")
        return int(value) if value and value.isdigit() else None

    async def run(self, fn: Callable, *args, **kwargs):
        """Run sync code (ORM, file I/O, hashing) in this request's worker thread.

        In a copy of the caller's context, as asgiref does for Django's views: the request id
        (hub/requestid.py) reaches the log lines and the jobs queued from there.
        """
        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await loop.run_in_executor(self._executor, call)

    def authenticate(self):
        """``(user, token)`` by ``hub.access.identify``; call through ``run``. 401/403 ApiError when refused.

        A session needs the CSRF token in ``X-CSRFToken`` (the body is not parsed for it).
        """
        from django.core.handlers.asgi import ASGIRequest
        from django.http import QueryDict, parse_cookie
        from django.middleware.csrf import CsrfViewMiddleware
        from django.utils.datastructures import MultiValueDict

        from hub.access import TokenError, identify

        cookies = parse_cookie(self.headers.get("cookie", ""))
        try:
            identity = identify(
                authorization=self.headers.get("authorization"), session=cookies.get(settings.SESSION_COOKIE_NAME)
            )
        except TokenError as exc:
            raise ApiError(str(exc), status_code=401) from None
        if identity.token is not None or not identity.user.is_authenticated:
            return identity.user, identity.token
        # A session is an ambient credential: the request must prove it comes from our own page.
        request = ASGIRequest(self.scope, io.BytesIO())
        request._post, request._files = QueryDict(), MultiValueDict()  # never parse the body here
        request.COOKIES = cookies
        csrf = CsrfViewMiddleware(lambda r: None)
        csrf.process_request(request)
        refused = csrf.process_view(request, lambda r: None, (), {})
        if refused is not None:
            raise ApiError("CSRF check failed: reload the page and try again.", status_code=403)
        return identity.user, None

    async def pump(self, feed: Callable[[bytes], None], batch_bytes: int = BATCH_BYTES) -> bool:
        """Feed the body to ``feed`` (run in the worker thread), message by message; False if the client went away.

        Messages are handed to the worker thread in batches of about ``batch_bytes``.
        A client that sends nothing for ``HUB_UPLOAD_IDLE_TIMEOUT`` seconds gets
        a 408 (``ApiError``), so it cannot hold a thread and a temp file forever.

        Receiving goes on while earlier batches are fed: servers read the socket
        only when the app asks for the next message, so waiting for each batch
        would leave the socket idle while the worker hashes and writes. At most
        ``PIPELINE_DEPTH`` batches wait, which bounds memory. After ``feed``
        raises, the batches behind it are dropped, and the error propagates
        within ``PIPELINE_DEPTH`` batches of the refused chunk.
        """
        loop = asyncio.get_running_loop()
        pending: collections.deque[asyncio.Future] = collections.deque()
        failed = False

        def guarded(batch: list[bytes]) -> None:
            nonlocal failed
            if failed:
                return
            try:
                for data in batch:
                    feed(data)
            except BaseException:
                failed = True
                raise

        async def drain(keep: int) -> None:
            while len(pending) > keep:
                await pending.popleft()

        # A batch is the server's messages as they came, never joined: joining would copy every byte.
        batch: list[bytes] = []
        size = 0
        try:
            while True:
                message = await self._receive_within(settings.HUB_UPLOAD_IDLE_TIMEOUT)
                if message["type"] == "http.disconnect":
                    return False
                body = message.get("body", b"")
                if body:
                    batch.append(body)
                    size += len(body)
                more = message.get("more_body", False)
                if batch and (size >= batch_bytes or not more):
                    await drain(PIPELINE_DEPTH - 1)
                    pending.append(loop.run_in_executor(self._executor, guarded, batch))
                    batch, size = [], 0
                if not more:
                    await drain(0)
                    self.body_done = True
                    return True
        finally:
            # On an error or a disconnect, let the queued batches finish (after an error they are
            # skipped) before the caller cleans up.
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def _receive_within(self, seconds: float) -> dict:
        try:
            async with asyncio.timeout(seconds):
                return await self.receive()
        except TimeoutError:
            raise ApiError(
                f"No upload data for {seconds} s: the upload was abandoned; send it again.", status_code=408
            ) from None

    async def respond_json(self, status: int, data: dict, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        if self.responded:
            return
        self.responded = True
        body = json.dumps(data).encode()
        head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if not self.body_done:
            # The rest of the body is unread: closing is how the server stops receiving it.
            head.append((b"connection", b"close"))
        await self.send({"type": "http.response.start", "status": status, "headers": head + (headers or [])})
        await self.send({"type": "http.response.body", "body": body})

    async def respond_error(self, exc: ApiError) -> None:
        extra = [(b"x-error-message", header_safe(exc.message).encode())]
        if exc.error_code:
            extra.append((b"x-error-code", header_safe(exc.error_code).encode()))
        await self.respond_json(exc.status_code, {"error": exc.message, "detail": exc.extra}, extra)

    async def close(self) -> None:
        try:
            await self.run(connections.close_all)
        finally:
            self._executor.shutdown(wait=False)


async def stream_body_into(request: StreamRequest, open_staged: Callable[[], StagedFile]) -> Blob | None:
    """Stream a raw request body into one blob; None when the client went away.

    ``open_staged`` runs in the request's thread (it may query the database);
    pass the announced size to ``open_file`` so an oversized body is refused
    before it is read. Raises ``UploadError`` (413/422/400) and then keeps nothing.
    """
    staged = await request.run(open_staged)
    try:
        if not await request.pump(staged.write):
            await request.run(staged.abort)
            return None
        return await request.run(staged.finish)
    except BaseException:
        await request.run(staged.abort)
        raise
