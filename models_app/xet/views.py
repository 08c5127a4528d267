"""Xet endpoints: the token routes the hub API offers, and the CAS routes the token opens.

The CAS routes are plain Django views, not DRF: the client authenticates with
the CAS token (not a hub token), sends raw bytes, and reads only the status
and a small JSON body.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from hub.api import ApiError, error_response
from hub.models import User
from hub.permissions import READ_ONLY_TOKEN_MESSAGE, request_can_write
from models_app.hf.commits import wants_pr
from models_app.models import ModelRepo
from models_app.repos.rules import MODEL, can_commit_to, can_propose, can_write, get_visible_repo
from models_app.xet import cas
from models_app.xet.tokens import PROPOSE, CasGrant, CasTokenError, cas_token_check, cas_token_issue

CAS_PREFIX = "/xet"
_TOKEN_SCHEMA = extend_schema(
    responses=inline_serializer(
        "XetToken",
        {"accessToken": serializers.CharField(), "exp": serializers.IntegerField(), "casUrl": serializers.URLField()},
    )
)


def _cas_url(request) -> str:
    from django.conf import settings

    base = settings.SITE_URL.rstrip("/") or request.build_absolute_uri("/").rstrip("/")
    return base + CAS_PREFIX


def _token_answer(request, repo: ModelRepo, rev: str, scope: str) -> Response:
    token, exp = cas_token_issue(request.user.pk, repo.pk, rev, scope)
    cas_url = _cas_url(request)
    # hf_xet reads the JSON body; huggingface_hub's own helper reads the headers.
    response = Response({"accessToken": token, "exp": exp, "casUrl": cas_url})
    response["X-Xet-Access-Token"] = token
    response["X-Xet-Token-Expiration"] = str(exp)
    response["X-Xet-Cas-Url"] = cas_url
    response["Cache-Control"] = "no-store"
    return response


def _require_user(request: Request) -> None:
    if not request.user.is_authenticated:
        raise ApiError("Authentication required: pass a write token (Authorization: Bearer).", status_code=401)


@_TOKEN_SCHEMA
@api_view(["GET"])
def xet_write_token(request: Request, owner: str, name: str, rev: str, repo_type: str = MODEL) -> Response:
    _require_user(request)
    repo = get_visible_repo(request.user, owner, name, repo_type)
    if not request_can_write(request):
        raise ApiError(READ_ONLY_TOKEN_MESSAGE, status_code=403)
    if can_write(request.user, repo):
        return _token_answer(request, repo, rev, "write")
    # Anyone may propose a pull request (?create_pr=1), and its author commits to its refs/pr/N: their
    # files travel first, under a "propose" grant (the commit that uses them is checked on its own).
    if wants_pr(request.query_params.get("create_pr")) or can_commit_to(request.user, repo, rev):
        return _token_answer(request, repo, rev, PROPOSE)
    raise ApiError(f"You cannot write to {repo.repo_id}.", status_code=403)


@_TOKEN_SCHEMA
@api_view(["GET"])
def xet_read_token(request: Request, owner: str, name: str, rev: str, repo_type: str = MODEL) -> Response:
    repo = get_visible_repo(request.user, owner, name, repo_type)
    _require_user(request)
    return _token_answer(request, repo, rev, "read")


def _grant(request: HttpRequest, *, write: bool) -> CasGrant:
    return grant_from(request.headers.get("Authorization"), write=write)


def grant_from(authorization: str | None, *, write: bool) -> CasGrant:
    """The CAS token's grant; 401 when missing, forged or expired, 403 when a write needs more."""
    try:
        grant = cas_token_check(authorization)
    except CasTokenError as exc:
        raise ApiError(str(exc), status_code=401) from None
    if write and not grant.can_write:
        raise ApiError("This Xet token is read-only; uploads need a write token.", status_code=403)
    return grant


def writable_repo(grant: CasGrant) -> tuple[ModelRepo, User]:
    # Checked on every write: a token outlives neither the user's access nor the repo.
    repo = ModelRepo.objects.select_related("owner").filter(pk=grant.repo_id).first()
    user = User.objects.filter(pk=grant.user_id, is_active=True).first()
    allowed = can_write if grant.scope != PROPOSE else can_propose
    if repo is None or user is None or not allowed(user, repo):
        raise ApiError("This Xet token no longer grants writing to its repository.", status_code=403)
    return repo, user


def _cas_view(view):
    """Turn ApiError into the JSON error shape; the CAS routes authenticate themselves."""

    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ApiError as exc:
            return error_response(exc.message, exc.status_code, exc.extra)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return csrf_exempt(wrapped)


def _async_cas_view(view):
    async def wrapped(request, *args, **kwargs):
        try:
            return await view(request, *args, **kwargs)
        except ApiError as exc:
            return error_response(exc.message, exc.status_code, exc.extra)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return csrf_exempt(wrapped)


@_async_cas_view
async def xorb_upload(request: HttpRequest, prefix: str, hash: str) -> HttpResponse:
    # Async so that verifying one 64 MiB xorb (CPU and disk, no database) runs in a worker
    # thread while the client's other xorb uploads and dedup queries are served; sync views
    # would all queue on the one thread Django keeps for them.
    if request.method != "POST":
        return error_response("Use POST.", 405)
    grant = _grant(request, write=True)
    _, user = await sync_to_async(writable_repo)(grant)
    if prefix != "default":
        raise ApiError("Unknown xorb prefix (use 'default').", status_code=400)
    limit = await sync_to_async(cas.xorb_limit)(hash, user)
    if limit is None:
        return JsonResponse({"was_inserted": False})
    length = request.headers.get("Content-Length")
    size, refs = await sync_to_async(cas.xorb_write, thread_sensitive=False)(
        hash, request.read, int(length) if length else None, limit
    )
    inserted = await sync_to_async(cas.xorb_record)(hash, size, refs, user)
    return JsonResponse({"was_inserted": inserted})


@_cas_view
@require_POST
def shard_upload(request: HttpRequest) -> HttpResponse:
    grant = _grant(request, write=True)
    repo, user = writable_repo(grant)
    length = int(request.headers.get("Content-Length") or 0)
    if length > cas.shard.MAX_SHARD_SIZE:
        raise ApiError("A shard is at most 64 MiB.", status_code=413)
    data = request.read(cas.shard.MAX_SHARD_SIZE + 1)
    return JsonResponse({"result": cas.shard_register(data, repo, user)})


@_cas_view
@require_GET
def chunk_query(request: HttpRequest, prefix: str, hash: str) -> HttpResponse:
    _grant(request, write=False)
    answer = cas.dedup_lookup(hash)
    if answer is None:
        return error_response("Chunk not known to the hub.", 404)
    return HttpResponse(answer, content_type="application/octet-stream")


@_cas_view
def not_offered(request: HttpRequest, rest: str = "") -> HttpResponse:
    # Upload grants, streamed v2 shards, reconstructions and telemetry: a 404 makes
    # the client fall back to the plain upload routes; downloads stay plain HTTP.
    return error_response("This Xet route is not offered by this hub.", 404)
