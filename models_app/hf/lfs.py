"""Git LFS batch API (basic transfer) for the Hugging Face clients' large files.

``POST /<owner>/<name>.git/info/lfs/objects/batch`` answers, per object, an
upload link back to this hub, or no action when the uploader may already use
the stored object. The client PUTs the bytes to that link *without* its
``Authorization`` header (``huggingface_hub/lfs.py`` sends a bare PUT), so the
link carries a signed grant (user, repo, sha256, size). A ``verify`` action
(with the bearer token) confirms the object before the commit names it.

In S3 mode the links go straight to the object store instead, and verify is
where the hub hashes what arrived (``lfs_staged.py``); the bytes never pass
through this process.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from rest_framework.decorators import api_view, parser_classes, permission_classes, renderer_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from hub.api import ApiError, error_response
from hub.jsonbody import JSONParser
from hub.permissions import TokenScopeAllows
from models_app.bounds import MAX_LFS_BATCH_OBJECTS, check_count
from models_app.hf import lfs_objects, lfs_staged, tasks
from models_app.hf.commits import OID_RE, hub_base_url, repo_for_lfs
from models_app.hf.schema import hf_schema
from models_app.publish.uploads import Limits, iter_file
from models_app.repos.routes import RepoKind
from models_app.repos.rules import MODEL

LFS_MEDIA_TYPE = "application/vnd.git-lfs+json"


class GitLfsJSONParser(JSONParser):
    media_type = LFS_MEDIA_TYPE


class GitLfsJSONRenderer(JSONRenderer):
    media_type = LFS_MEDIA_TYPE


def lfs_api(view):
    """A git-lfs+json POST endpoint that needs a token allowed to write."""
    for decorate in (
        permission_classes([IsAuthenticated, TokenScopeAllows]),
        renderer_classes([GitLfsJSONRenderer, JSONRenderer]),
        parser_classes([GitLfsJSONParser, JSONParser]),
        api_view(["POST"]),
    ):
        view = decorate(view)
    return view


def _object_error(oid, size, code: int, message: str) -> dict:
    return {"oid": str(oid), "size": size if isinstance(size, int) else 0, "error": {"code": code, "message": message}}


@hf_schema("Git LFS batch API (basic transfer)")
@lfs_api
def lfs_batch(request, owner: str, name: str, repo_type: str = MODEL) -> Response:
    payload = request.data if isinstance(request.data, dict) else {}
    ref = payload.get("ref")
    ref = ref.get("name") if isinstance(ref, dict) and isinstance(ref.get("name"), str) else None
    repo = repo_for_lfs(request.user, owner, name, repo_type, ref)
    if payload.get("operation") != "upload":
        raise ApiError("This LFS endpoint only takes uploads; download files with /resolve/.", status_code=400)
    if "basic" not in (payload.get("transfers") or ["basic"]):
        raise ApiError("Only the 'basic' LFS transfer is supported.", status_code=400)
    if payload.get("hash_algo", "sha256") != "sha256":
        raise ApiError("Only sha256 object ids are supported.", status_code=400)
    objects = payload.get("objects")
    if not isinstance(objects, list):
        raise ApiError("'objects' must be a list of {oid, size}.", status_code=400)
    check_count(len(objects), MAX_LFS_BATCH_OBJECTS, "LFS objects")
    limits = Limits.for_repo(repo)
    base = hub_base_url(request)
    kind = RepoKind(repo.repo_type)
    ids = {"owner": repo.owner.username, "name": repo.name}
    verify = f"{base}{reverse(kind.name('hf_lfs_verify'), kwargs=ids)}"
    announced = 0
    answer = []
    for obj in objects:
        oid, size = (obj.get("oid"), obj.get("size")) if isinstance(obj, dict) else (None, None)
        if not isinstance(oid, str) or not OID_RE.match(oid) or not isinstance(size, int) or size < 0:
            answer.append(_object_error(oid, size, 422, "An object needs a lowercase sha256 'oid' and a 'size'."))
        elif size > limits.max_file_size:
            answer.append(_object_error(oid, size, 413, "This file is larger than the hub's limit per file."))
        elif lfs_objects.usable_blob(request.user, repo, oid, size) is not None:
            answer.append({"oid": oid, "size": size})  # already stored and readable by the uploader: no upload
        elif lfs_staged.enabled() and announced + size > min(limits.repo_remaining, limits.user_remaining):
            # The store takes whatever it is sent: the quota is checked before any link is handed out.
            answer.append(_object_error(oid, size, 413, "This upload would go past the storage quota."))
        elif lfs_staged.enabled():
            announced += size
            complete = f"{base}{reverse(kind.name('hf_lfs_complete'), kwargs={**ids, 'oid': oid})}"
            actions = lfs_staged.upload_actions(request.user, repo, oid, size, complete, verify)
            answer.append({"oid": oid, "size": size, "authenticated": True, "actions": actions})
        else:
            token = lfs_objects.upload_link_token(request.user, repo, oid, size)
            path = reverse(kind.name("hf_lfs_upload"), kwargs={**ids, "oid": oid})
            answer.append(
                {
                    "oid": oid,
                    "size": size,
                    "authenticated": True,
                    "actions": {
                        "upload": {
                            "href": f"{base}{path}?t={quote(token)}",
                            "expires_in": lfs_objects.UPLOAD_LINK_MAX_AGE,
                        },
                        "verify": {"href": verify},
                    },
                }
            )
    return Response({"transfer": "basic", "objects": answer, "hash_algo": "sha256"})


@csrf_exempt
@require_http_methods(["PUT"])
def lfs_upload(request: HttpRequest, owner: str, name: str, oid: str, repo_type: str = MODEL) -> HttpResponse:
    """Receive one object's bytes; authorised by the signed grant in the link, not by a header."""
    try:
        lfs_objects.upload_receive(request.GET.get("t", ""), oid, request_chunks(request))
    except ApiError as exc:
        return error_response(exc.message, exc.status_code, code=exc.error_code)
    return HttpResponse(status=200)


def request_chunks(request: HttpRequest):
    # Only without the ASGI front (test client, WSGI): under uvicorn hf/lfs_stream.py takes this URL.
    return iter_file(request)


@hf_schema("Git LFS verify an uploaded object")
@lfs_api
def lfs_verify(request, owner: str, name: str, repo_type: str = MODEL) -> Response:
    repo = repo_for_lfs(request.user, owner, name, repo_type)  # only the uploader's own objects verify
    data = request.data if isinstance(request.data, dict) else {}
    oid, size = data.get("oid"), data.get("size")
    if not isinstance(oid, str) or not OID_RE.match(oid):
        raise ApiError("Verify needs the object's lowercase sha256 'oid'.", status_code=422)
    token = request.GET.get("t")
    if token and lfs_objects.usable_blob(request.user, repo, oid, size if isinstance(size, int) else None) is None:
        _verify_staged(request.user, repo, lfs_staged.read_grant(token, oid))
    if lfs_objects.usable_blob(request.user, repo, oid, size if isinstance(size, int) else None) is None:
        raise ApiError(f"LFS object {oid} ({size} bytes) is not stored for {repo.repo_id}.", status_code=404)
    return Response({"oid": oid, "size": size})


@csrf_exempt
@require_http_methods(["POST"])
def lfs_complete(request: HttpRequest, owner: str, name: str, oid: str, repo_type: str = MODEL) -> HttpResponse:
    """A multipart upload's completion (S3 mode); like the part PUTs, authorised by the signed grant in the link."""
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        return error_response("The completion body must be JSON: {oid, parts: [{partNumber, etag}]}.", 400)
    try:
        lfs_staged.complete(request.GET.get("t", ""), oid, payload)
    except ApiError as exc:
        return error_response(exc.message, exc.status_code, code=exc.error_code)
    return JsonResponse({})


def _verify_staged(user, repo, grant: dict) -> None:
    """Hash a directly uploaded object (here when small, else on a worker); raise unless it is now a blob."""
    if grant.get("u") != user.pk or grant.get("r") != repo.pk:
        raise ApiError("This verify link is for another upload.", status_code=403)
    state = lfs_staged.verdict(grant)
    if state is None and lfs_staged.claim(grant):
        if grant["s"] <= settings.HUB_LFS_VERIFY_INLINE_MAX:
            state = lfs_staged.verify_staged(grant)
        else:
            tasks.verify_staged_object.delay(grant)
    state = lfs_staged.wait_for_verdict(grant, settings.HUB_LFS_VERIFY_WAIT)
    if state in (None, lfs_staged.QUEUED):
        raise ApiError(
            f"LFS object {grant['o']} is still being verified: run the upload again in a minute.", status_code=503
        )
    if state != lfs_staged.OK:
        raise ApiError(f"LFS object {grant['o']} was refused: {state}", status_code=422)
