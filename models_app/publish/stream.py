"""The native upload API, streamed: ``POST .../upload`` (a multipart form) and ``PUT .../upload/<path>`` (one file).

Served by the raw-bytes app (``streaming.py``; routes in ``bytes_routes.py``).
The DRF view of the POST (``api_publish.UploadView``) is its fallback where
that app is absent (test client, WSGI).
"""

from __future__ import annotations

from urllib.parse import parse_qs

from models_app.publish import service as publish
from models_app.publish.multipart import UploadForm
from models_app.publish.uploads import Ingest, UploadError
from models_app.repos.revisions import revision_create
from models_app.repos.rules import MODEL
from models_app.streaming import StreamRequest, stream_body_into


async def native_upload(request: StreamRequest, owner: str, name: str, repo_type: str = MODEL) -> None:
    """``POST /api/models/<owner>/<name>/upload`` (multipart), streamed into ``Ingest``."""

    def prepare():
        user, token = request.authenticate()
        repo = publish.upload_target(user, token, owner, name, repo_type)
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


async def native_put(request: StreamRequest, owner: str, name: str, path: str, repo_type: str = MODEL) -> None:
    """``PUT /api/models/<owner>/<name>/upload/<path>?message=...``: one file as the raw body (``curl -T``)."""
    query = parse_qs(request.scope.get("query_string", b"").decode("latin-1"))

    def prepare():
        user, token = request.authenticate()
        repo = publish.upload_target(user, token, owner, name, repo_type)
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
