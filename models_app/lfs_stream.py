"""The LFS ``PUT`` streamed in front of Django (``models_app/streaming.py``, imported by ``hub/asgi.py``).

Bytes reach ``Ingest`` as they arrive instead of after Django has spooled the
whole body to a temp file. The Django view ``lfs.lfs_upload`` serves the same
URL where this front is absent (test client, WSGI); both go through
``lfs_objects.upload_open``.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from models_app import lfs_objects
from models_app.streaming import StreamRequest, stream_route


@stream_route("PUT", r"/(?P<owner>[^/]+)/(?P<name>[^/]+)\.git/info/lfs/objects/(?P<oid>[0-9a-f]{64})")
async def lfs_upload_streamed(request: StreamRequest, owner: str, name: str, oid: str) -> None:
    token = (parse_qs(request.scope.get("query_string", b"").decode("latin-1")).get("t") or [""])[0]
    upload = await request.run(lfs_objects.upload_open, token, oid)
    try:
        if not await request.pump(upload.write):
            return  # the client went away: the temp file goes, nothing is stored
        await request.run(upload.finish)
    finally:
        await request.run(upload.abort)  # no-op after finish
    await request.respond_json(200, {})
