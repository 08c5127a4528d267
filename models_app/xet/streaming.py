"""The xorb upload, streamed by the raw-bytes app (``models_app/streaming.py``; route in ``bytes_routes.py``).

Django's ASGI handler holds a whole request body before a view runs. Here the
xorb is counted, written and parsed slice by slice as it arrives: an
oversized or corrupt xorb is refused at the first bad slice, memory stays at
about one slice, and checking overlaps receiving. The Django view of the same
URL (``views.xorb_upload``) stays the fallback (test client, no front app).
"""

from __future__ import annotations

from hub.api import ApiError
from models_app.streaming import StreamRequest
from models_app.xet import assembly, cas, views


async def xorb_upload_streamed(request: StreamRequest, prefix: str, hash: str) -> None:
    def prepare():
        grant = views.grant_from(request.headers.get("authorization"), write=True)
        repo, user = views.writable_repo(grant)
        if prefix != "default":
            raise ApiError("Unknown xorb prefix (use 'default').", status_code=400)
        limit = cas.xorb_limit(hash, user)
        if limit is None:
            return user, None
        if request.content_length is not None and request.content_length > limit:
            raise cas.CasError(cas.too_big(limit), status_code=413)
        return user, cas.XorbUpload(hash, limit, assembly.xorb_started(user.pk, repo, hash, request.content_length))

    user, upload = await request.run(prepare)
    if upload is None:  # already held: read the body anyway, so the connection stays usable
        await request.pump(lambda data: None)
        await request.respond_json(200, {"was_inserted": False})
        return
    try:
        if not await request.pump(upload.write):
            return  # the client went away: nothing is kept
        size, refs = await request.run(upload.finish)
        inserted = await request.run(cas.xorb_record, hash, size, refs, user)
    finally:
        await request.run(upload.abort)
    await request.respond_json(200, {"was_inserted": inserted})
