"""Upload routes streamed by a small ASGI app in front of Django.

Django's ASGI handler reads the whole request body into a temp file before
any view runs, so a view could check limits only after storing every byte,
and the bytes would be written twice. ``StreamingUploads`` (wired in
``hub/asgi.py``) takes the upload routes itself and passes everything else to
Django unchanged. For an upload it:

1. authenticates with Django's own rules (Bearer token, or session cookie plus
   CSRF check), finds the repo and refuses early (401/403/404, and 413 from
   ``Content-Length`` before a byte of the body is read);
2. pulls the server's body messages and feeds them to a per-request worker
   thread in batches of about 4 MiB (never joined), at most
   ``PIPELINE_DEPTH`` batches in flight; the thread parses them and hands the
   bytes to a hash lane and a write lane (uploads.py);
3. answers 413 on the first chunk over a limit, with ``Connection: close``
   so the server stops reading the rest of the body, and 408 when the client
   sends nothing for ``HUB_UPLOAD_IDLE_TIMEOUT`` seconds mid-body.

Other streaming routes (the Hugging Face LFS ``PUT``) reuse this machinery:
decorate ``async def handler(request: StreamRequest, **url_groups)`` with
``@stream_route("PUT", r"/regex/(?P<oid>...)")`` in a module imported by
``hub/asgi.py``; in it use ``await request.run(request.authenticate)``, then
``blob = await stream_body_into(request, lambda: Ingest(repo).open_file(path, sha256=oid, size=n))``
(a raw body into one blob: size checked from Content-Length first, digest at
the end, nothing kept on failure), and ``await request.respond_json(...)``.
``native_put`` below is the worked example.
The DRF view of the same URL (``api_publish.upload``) is the documented
fallback when the app runs without this front (test client, WSGI).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import io
import json
import logging
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import close_old_connections, connections

from hub.api import ApiError
from hub.headers import header_safe

if TYPE_CHECKING:
    from models_app.models import Blob
    from models_app.publish.uploads import StagedFile

log = logging.getLogger(__name__)

BATCH_BYTES = 4 * 1024 * 1024
PIPELINE_DEPTH = 3
Handler = Callable[..., Awaitable[None]]
ROUTES: list[tuple[str, re.Pattern, Handler]] = []


def stream_route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    """Register an async handler for ``method`` and a full-match path regex."""

    def register(handler: Handler) -> Handler:
        ROUTES.append((method.upper(), re.compile(pattern), handler))
        return handler

    return register


class StreamingUploads:
    """ASGI middleware: streamed routes here, everything else to ``app``."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            for method, regex, handler in ROUTES:
                match = regex.fullmatch(scope["path"]) if scope["method"] == method else None
                if match:
                    request = StreamRequest(scope, receive, send)
                    try:
                        await handler(request, **match.groupdict())
                    except ApiError as exc:
                        await request.respond_error(exc)
                    except Exception:  # noqa: BLE001 - a bug must still answer JSON, never hang the client
                        log.exception("streamed %s %s failed", scope["method"], scope["path"])
                        await request.respond_error(ApiError("Internal error; it has been logged.", status_code=500))
                    finally:
                        await request.close()
                    return
        await self.app(scope, receive, send)


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
        """Run sync code (ORM, file I/O, hashing) in this request's worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def authenticate(self):
        """``(user, token)`` by Django's rules; call through ``run``. 401/403 ApiError when refused.

        A session needs the CSRF token in ``X-CSRFToken`` (the body is not parsed for it).
        """
        from django.contrib.auth.middleware import AuthenticationMiddleware
        from django.contrib.auth.models import AnonymousUser
        from django.contrib.sessions.middleware import SessionMiddleware
        from django.core.handlers.asgi import ASGIRequest
        from django.http import QueryDict
        from django.middleware.csrf import CsrfViewMiddleware
        from django.utils.datastructures import MultiValueDict

        from hub.authentication import bearer_token
        from hub.tokens import TokenError, token_authenticate

        raw = bearer_token(self.headers.get("authorization"))
        if raw is not None:
            try:
                token = token_authenticate(raw)
            except TokenError as exc:
                raise ApiError(str(exc), status_code=401) from None
            return token.user, token
        request = ASGIRequest(self.scope, io.BytesIO())
        request._post, request._files = QueryDict(), MultiValueDict()  # never parse the body here
        SessionMiddleware(lambda r: None).process_request(request)
        AuthenticationMiddleware(lambda r: None).process_request(request)
        user = request.user
        if not user.is_authenticated:
            return AnonymousUser(), None
        csrf = CsrfViewMiddleware(lambda r: None)
        csrf.process_request(request)
        refused = csrf.process_view(request, lambda r: None, (), {})
        if refused is not None:
            raise ApiError("CSRF check failed: reload the page and try again.", status_code=403)
        return user, None

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


# --- the native upload ------------------------------------------------------------------------------------
NAME = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,95}"


@stream_route("POST", rf"/api/models/(?P<owner>{NAME})/(?P<name>{NAME})/upload/?")
async def native_upload(request: StreamRequest, owner: str, name: str) -> None:
    """``POST /api/models/<owner>/<name>/upload`` (multipart), streamed into ``Ingest``."""
    from models_app.publish import service as publish
    from models_app.publish.multipart import UploadForm
    from models_app.publish.uploads import Ingest

    def prepare():
        user, token = request.authenticate()
        repo = publish.upload_target(user, token, owner, name)
        ingest = Ingest(repo)
        publish.upload_limits_check(ingest.limits, request.content_length)
        return user, repo, UploadForm(ingest, request.headers.get("content-type", ""))

    user, repo, form = await request.run(prepare)
    try:
        if not await request.pump(form.feed):
            return  # the client went away: nothing of the upload is kept
        status, payload = await request.run(publish.upload_commit, repo, user, form)
    finally:
        await request.run(form.abort)  # no-op after a commit; drops temp files otherwise
    await request.respond_json(status, payload)


@stream_route("PUT", rf"/api/models/(?P<owner>{NAME})/(?P<name>{NAME})/upload/(?P<path>.+)")
async def native_put(request: StreamRequest, owner: str, name: str, path: str) -> None:
    """``PUT /api/models/<owner>/<name>/upload/<path>?message=...``: one file as the raw body (``curl -T``)."""
    from urllib.parse import parse_qs

    from models_app.publish import service as publish
    from models_app.publish.uploads import Ingest, UploadError
    from models_app.repos.revisions import revision_create

    query = parse_qs(request.scope.get("query_string", b"").decode("latin-1"))

    def prepare():
        user, token = request.authenticate()
        repo = publish.upload_target(user, token, owner, name)
        if request.content_length is None:
            raise UploadError("Send Content-Length with the file.", status_code=411)
        return user, repo, Ingest(repo)

    user, repo, ingest = await request.run(prepare)
    repo_path = path  # the server has already percent-decoded the ASGI path
    digest = (query.get("sha256") or [None])[0]
    blob = await stream_body_into(
        request, lambda: ingest.open_file(repo_path, sha256=digest, size=request.content_length)
    )
    if blob is None:
        return

    def commit():
        message = (query.get("message") or [""])[0] or f"Upload {repo_path}"
        result = revision_create(repo, author=user, message=message, add=ingest.files)
        payload = publish.revision_payload(repo, result.revision)
        payload.update(created=result.created, warnings=list(result.card_warnings))
        if not result.created:
            payload["message"] = "Nothing changed: the file is identical on main, so no revision was created."
        return (201 if result.created else 200), payload

    status, payload = await request.run(commit)
    await request.respond_json(status, payload)
