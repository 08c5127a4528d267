"""Serving model files: ``GET``/``HEAD /<owner>/<name>/resolve/<rev>/<path>``.

Django's ``FileResponse`` under ASGI reads a synchronous file iterator whole
into memory and ignores ``Range``, so files never go out that way. Instead
the raw-bytes app (``streaming.BytesApp``, route ``resolve`` in
``bytes_routes.py``) answers resolve URLs with ``serve``:

- the access check, the lookup and the counting run in one short sync call
  (``prepare``), the same code the Django fallback view uses;
- the bytes go out with the server's ``http.response.pathsend`` when it offers
  it and the whole file is asked for (granian: the file never enters Python),
  else in bounded chunks read in a worker thread (uvicorn, daphne); memory
  stays at a few chunks whatever the file size;
- with ``HUB_ACCEL_REDIRECT_PREFIX`` set, nginx sends the bytes
  (``X-Accel-Redirect``; ``deploy/nginx.conf``), and with object storage the
  client is redirected to a presigned URL (the HF client drops its
  ``Authorization`` header on the other host).

Headers follow what the Hugging Face client reads on its ``HEAD``:
``X-Repo-Commit`` (40 hex), ``ETag`` and ``X-Linked-Etag`` (the quoted sha256),
``X-Linked-Size``, ``Content-Length``, ``Accept-Ranges``; errors carry
``X-Error-Code``/``X-Error-Message``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from dataclasses import dataclass, field
from urllib.parse import quote

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.http import parse_cookie

from hub import outage
from hub.access import TokenError, identify
from hub.headers import header_safe
from models_app.engagement import download_counts
from models_app.hf.errors import HubNotFound, missing_repo
from models_app.models import URL_PREFIXES, Blob, RepoFile
from models_app.repos import gating
from models_app.repos.blobs import client_etag
from models_app.repos.revisions import DEFAULT_BRANCH, RevisionError, resolve_revision
from models_app.repos.rules import MODEL, RepoTakenDown, find_visible_repo
from models_app.storage import get_store

log = logging.getLogger(__name__)

CHUNK_SIZE = 4 * 1024 * 1024
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
# A byte position with more digits than this is past the end of any file. Python refuses
# to convert numbers of over 4,300 digits, so longer ones must never reach int().
MAX_RANGE_DIGITS = 18


@dataclass
class Answer:
    """What to send: a status, headers, and optionally a byte range of a blob."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    blob_key: str | None = None
    start: int = 0
    length: int = 0
    whole: bool = False


def _error(exc: HubNotFound) -> Answer:
    headers = [("Content-Type", "application/json"), *exc.headers()]
    return Answer(exc.status, headers, exc.body())


def parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """``(start, end_inclusive)`` for one satisfiable range, None to ignore the header, False if unsatisfiable."""
    match = RANGE_RE.match(header.strip().replace(" ", ""))
    if not match or (not match.group(1) and not match.group(2)):
        return None  # multiple ranges or junk: RFC 9110 lets us send the whole file
    first, last = (_position(group, size) for group in match.groups())
    if first is None:  # suffix range: the last N bytes
        if last == 0:
            return False
        return max(size - last, 0), size - 1
    start = first
    end = min(last, size - 1) if last is not None else size - 1
    if start >= size or end < start:
        return False
    return start, end


def _position(digits: str, size: int) -> int | None:
    """A Range position; any over ``MAX_RANGE_DIGITS`` digits counts as ``size`` (past the end)."""
    if not digits:
        return None
    digits = digits.lstrip("0") or "0"
    return size if len(digits) > MAX_RANGE_DIGITS else int(digits)


def _etag_matches(header: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


def answer_file(
    blob: Blob, commit: str, path: str, method: str, headers: dict[str, str], *, private: bool = False
) -> Answer:
    """Conditional and range logic for one file, independent of how the bytes are sent."""
    etag = f'"{client_etag(blob, path)}"'
    base = [
        ("ETag", etag),
        ("X-Linked-Etag", etag),
        ("X-Linked-Size", str(blob.size)),
        ("X-Repo-Commit", commit),
        ("Accept-Ranges", "bytes"),
        ("Cache-Control", "private, max-age=0" if private else "public, max-age=0, must-revalidate"),
    ]
    if "if-none-match" in headers and _etag_matches(headers["if-none-match"], etag):
        return Answer(304, base)
    name = path.rsplit("/", 1)[-1]
    # An ASCII fallback for every client, and the exact UTF-8 name for those that read RFC 6266.
    fallback = header_safe(name.replace('"', ""))
    base += [
        ("Content-Type", "application/octet-stream"),
        ("Content-Disposition", f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"),
    ]
    span = None
    if "range" in headers:
        if_range = headers.get("if-range")
        if if_range is None or if_range.strip() == etag:  # a stale If-Range gets the whole new file
            span = parse_range(headers["range"], blob.size)
    if span is False:
        return Answer(416, [*base, ("Content-Range", f"bytes */{blob.size}"), ("Content-Length", "0")])
    if span:
        start, end = span
        length = end - start + 1
        base += [("Content-Range", f"bytes {start}-{end}/{blob.size}"), ("Content-Length", str(length))]
        return Answer(206, base, blob_key=blob.storage_key, start=start, length=length)
    base.append(("Content-Length", str(blob.size)))
    return Answer(200, base, blob_key=blob.storage_key, start=0, length=blob.size, whole=True)


def user_from_credentials(authorization: str | None, session_key: str | None):
    """The user behind a Bearer token or a session (``hub.access.identify``); None for anonymous."""
    try:
        user = identify(authorization=authorization, session=session_key).user
    except TokenError as exc:
        raise HubNotFound(401, "Unauthorized", str(exc)) from None
    return user if user.is_authenticated else None


def prepare(
    user,
    owner: str,
    name: str,
    rev: str,
    path: str,
    method: str,
    headers: dict[str, str],
    client: str,
    repo_type: str = MODEL,
):
    """Access check, lookup, conditional/range answer and counting for one resolve request."""
    try:
        repo = find_visible_repo(user, owner, name, repo_type)
    except RepoTakenDown as exc:  # its files stop downloading, with the public reason
        raise HubNotFound(451, "RepoTakenDown", exc.message) from None
    if repo is None:
        prefix = URL_PREFIXES[repo_type]
        location = f"{prefix}/{owner}/{name}/resolve/{quote(rev, safe='')}/{quote(path)}"
        raise missing_repo(user, owner, name, location, repo_type)
    if not gating.may_read_file(user, repo, path):
        raise HubNotFound(401 if user is None else 403, "GatedRepo", gating.gated_message(repo, user))
    try:
        revision = resolve_revision(repo, rev)
    except RevisionError as exc:
        if rev == DEFAULT_BRANCH and not repo.revisions.exists():
            # A new repo's main holds no file yet. transformers' push_to_hub asks for README.md
            # first and only tolerates EntryNotFound (the HF hub starts repos with a commit).
            raise HubNotFound(404, "EntryNotFound", f"{path} does not exist: {owner}/{name} is empty.") from None
        raise HubNotFound(404, "RevisionNotFound", exc.message) from None
    entry = RepoFile.objects.filter(revision=revision, path=path).select_related("blob").first()
    if entry is None:
        # With X-Repo-Commit the HF client caches the absence of optional files.
        raise HubNotFound(404, "EntryNotFound", f"{path} does not exist on '{rev}'.", commit=revision.sha)
    answer = answer_file(entry.blob, revision.sha, path, method, headers, private=repo.private)
    if method == "GET" and answer.status in (200, 206) and download_counts.counts_as_download(path):
        download_counts.download_count(repo.pk, download_counts.client_key(user and user.pk, *client.split("\n", 1)))
    if method == "GET" and answer.blob_key:
        _offload(answer, entry.blob, path)
    return answer


def _offload(answer: Answer, blob: Blob, path: str) -> None:
    """Hand the bytes to nginx or object storage when the deployment has one."""
    store = get_store()
    presign = getattr(store, "url", None)  # object storage: a presigned GET URL
    if presign is not None:
        answer.status = 302
        answer.headers = [(k, v) for k, v in answer.headers if k not in ("Content-Length", "Content-Range")]
        answer.headers += [("Location", presign(blob.storage_key)), ("Content-Length", "0")]
        answer.blob_key = None
    elif settings.DOWNLOAD_ACCEL_REDIRECT:
        # nginx serves the internal location itself and handles Range there; it keeps our other headers.
        answer.status = 200
        drop = ("Content-Length", "Content-Range", "Accept-Ranges")
        answer.headers = [(k, v) for k, v in answer.headers if k not in drop]
        answer.headers.append(
            ("X-Accel-Redirect", settings.DOWNLOAD_ACCEL_REDIRECT.rstrip("/") + "/" + blob.storage_key)
        )
        answer.blob_key = None


def _prepare_request(
    authorization, session_key, owner, name, rev, path, method, headers, client, repo_type=MODEL
) -> Answer:
    close_old_connections()
    try:
        user = user_from_credentials(authorization, session_key)
        return prepare(user, owner, name, rev, path, method, headers, client, repo_type)
    except HubNotFound as exc:
        return _error(exc)
    except Exception as exc:  # noqa: BLE001 - a JSON 500, never a bare server error page
        log.exception("download failed: %s/%s %s %s", owner, name, rev, path)
        if outage.database_unavailable(exc):  # 503: the client's retry will find it (hub/outage.py)
            return _error(HubNotFound(503, "DatabaseUnavailable", outage.MESSAGE))
        return _error(HubNotFound(500, "InternalError", "Internal error; it has been logged."))
    finally:
        close_old_connections()


async def serve(scope, receive, send, *, owner: str, name: str, rev: str, path: str, repo_type: str = MODEL) -> None:
    """The ASGI handler of ``resolve`` (GET and HEAD), for models and (``repo_type``) datasets."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    session_key = parse_cookie(headers.get("cookie", "")).get(settings.SESSION_COOKIE_NAME)
    client = f"{(scope.get('client') or ('', 0))[0]}\n{headers.get('user-agent', '')}"
    answer = await sync_to_async(_prepare_request)(
        headers.get("authorization"), session_key, owner, name, rev, path, scope["method"], headers, client, repo_type
    )
    raw_headers = _raw(answer.headers)
    if answer.blob_key is None or scope["method"] == "HEAD":
        await send({"type": "http.response.start", "status": answer.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else answer.body})
        return
    await send_blob(scope, receive, send, answer, raw_headers)


async def send_blob(scope, receive, send, answer: Answer, raw_headers: list) -> None:
    store = get_store()
    local = store.local_path(answer.blob_key)
    try:
        handle = await asyncio.to_thread(store.open, answer.blob_key)
    except OSError:
        # The database names a blob the store lost: say so, rather than start a body we cannot finish.
        log.exception("blob %s is missing from the store", answer.blob_key)
        error = HubNotFound(500, "BlobMissing", "This file's content is missing from the store; it has been logged.")
        await send({"type": "http.response.start", "status": 500, "headers": _raw(_error(error).headers)})
        await send({"type": "http.response.body", "body": error.body()})
        return
    await send({"type": "http.response.start", "status": answer.status, "headers": raw_headers})
    if answer.whole and local is not None and "http.response.pathsend" in scope.get("extensions", {}):
        handle.close()
        await send({"type": "http.response.pathsend", "path": str(local)})
        return
    # Some servers drop body messages silently once the client is gone; stop reading the file then.
    gone = asyncio.Event()
    watcher = asyncio.ensure_future(_watch_disconnect(receive, gone))
    try:
        fd = handle.fileno() if local is not None else None
        offset, left = answer.start, answer.length
        if fd is None and offset:
            await asyncio.to_thread(handle.seek, offset)
        while left > 0 and not gone.is_set():
            size = min(CHUNK_SIZE, left)
            # A page-cached read is a memcpy; a cold one would block the event loop, so it runs in a thread.
            if fd is not None:
                chunk = await asyncio.to_thread(os.pread, fd, size, offset)
            else:
                chunk = await asyncio.to_thread(handle.read, size)
            if not chunk:
                break  # the blob shrank under us; the client sees a short body and retries with Range
            offset += len(chunk)
            left -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": left > 0})
    finally:
        watcher.cancel()
        handle.close()


async def _watch_disconnect(receive, gone: asyncio.Event) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            return


def _raw(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers]
