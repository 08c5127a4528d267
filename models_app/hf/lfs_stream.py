"""The LFS ``PUT``, streamed by the raw-bytes app (``streaming.py``; route ``hf_lfs_upload`` in ``bytes_routes.py``).

Bytes reach ``Ingest`` as they arrive instead of after Django has spooled the
whole body to a temp file. The Django view ``lfs.lfs_upload`` serves the same
URL where this front is absent (test client, WSGI); both check the link with
``lfs_objects.upload_open``. No Content-Length is needed: the signed link
names the size, and ``open_file`` checks it against the limits before a byte
is read.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from models_app.hf import lfs_objects
from models_app.streaming import StreamRequest, stream_body_into


async def lfs_upload_streamed(
    request: StreamRequest, owner: str, name: str, oid: str, repo_type: str = "model"
) -> None:
    # The signed link names the repo (by id); owner, name and type in the URL are for people reading logs.
    token = (parse_qs(request.scope.get("query_string", b"").decode("latin-1")).get("t") or [""])[0]
    upload = await request.run(lfs_objects.upload_open, token, oid)
    if await stream_body_into(request, lambda: upload.staged) is None:
        return  # the client went away: nothing is kept
    await request.run(upload.remember)
    await request.respond_json(200, {})
