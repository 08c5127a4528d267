"""Native publishing API: create a repo, upload files, change settings, tag a revision.

Views check input, call one function and shape the answer; the rules live in
``repos.py``, ``publish.py``, ``revisions.py``. Under the ASGI server the
upload URL is served by ``streaming.native_upload`` (limits checked while the
body arrives); the DRF view below is the same upload for other callers (the
test client, WSGI) and what the OpenAPI schema documents.
"""

from __future__ import annotations

from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.parsers import BaseParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.api import ApiError
from hub.orgs import get_org, require_org_admin
from hub.permissions import IsAuthenticatedForWrites, TokenScopeAllows
from models_app.bounds import MAX_REPO_TAGS
from models_app.models import Ref
from models_app.publish import service as publish
from models_app.repos import gating
from models_app.repos.activity import account_writes
from models_app.repos.revisions import RevisionError, branch_create, branch_delete, resolve_revision, tag_create
from models_app.repos.rules import MODEL, get_visible_repo, namespace_check, repo_create, repo_rename, repo_update

WRITE = [TokenScopeAllows, IsAuthenticatedForWrites]
ERROR = inline_serializer("Error", {"error": serializers.CharField(), "detail": serializers.JSONField()})


def repo_json(repo) -> dict:
    return {
        "id": repo.repo_id,
        "type": repo.repo_type,
        "url": repo.web_path,
        "private": repo.private,
        "gated": repo.gated or False,
        "license": repo.license or None,
        "pipeline_tag": repo.pipeline_tag or None,
        "library_name": repo.library_name or None,
        "tags": repo.tags,
        "createdAt": repo.created.isoformat(),
    }


class RepoCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    private = serializers.BooleanField(default=False)
    license = serializers.CharField(required=False, allow_blank=True, default="")
    pipeline_tag = serializers.CharField(required=False, allow_blank=True, default="")
    tags = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, default=list, max_length=MAX_REPO_TAGS
    )
    organization = serializers.CharField(required=False, allow_blank=True, default="", max_length=96)


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        field, problems = next(iter(serializer.errors.items()))
        raise ApiError(f"{field}: {_first(problems)}", status_code=400, detail=serializer.errors)
    return serializer.validated_data


def _first(problems) -> str:
    """The first message of a field's errors: a list, or for a list field a dict {index: [messages]}."""
    while isinstance(problems, (list, dict)) and problems:
        problems = problems[0] if isinstance(problems, list) else next(iter(problems.values()))
    return str(problems)


class ModelsCollection(APIView):
    """``/api/models`` (``/api/datasets``): POST creates a repo; other methods go to ``listing``, which lists them.

    Django stops at the first matching pattern, so one URL serves two
    capabilities only through one view. ``models_app/urls.py`` passes reuse's
    listing in (``as_view(listing=...)``): publish never imports reuse.
    """

    permission_classes = WRITE
    listing = None  # the view every method but POST goes to

    def dispatch(self, request, *args, **kwargs):
        if request.method != "POST" and self.listing is not None:
            return self.listing(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    @extend_schema(
        request=RepoCreateInput,
        responses={201: OpenApiResponse(description="the new repo"), 400: ERROR, 401: ERROR, 403: ERROR, 409: ERROR},
        summary="Create a repo (a model on /api/models, a dataset on /api/datasets)",
    )
    def post(self, request: Request, repo_type: str = MODEL) -> Response:
        data = _valid(RepoCreateInput, request.data)
        namespace = namespace_check(request.user, data.pop("organization"))
        repo = repo_create(namespace, **data, repo_type=repo_type, creator=request.user)
        return Response(repo_json(repo), status=201)


class _Unparsed(BaseParser):
    """Declares multipart for the schema; the body is read as a stream by the view, never by DRF."""

    media_type = "multipart/form-data"

    def parse(self, stream, media_type=None, parser_context=None):
        return {}


class UploadView(APIView):
    permission_classes = WRITE
    parser_classes = [_Unparsed]

    def initialize_request(self, request, *args, **kwargs):
        # DRF's CSRF check reads request.POST, which would parse (and spool) the whole body first.
        request._post, request._files = QueryDict(), MultiValueDict()
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                "UploadForm",
                {
                    "file": serializers.ListField(
                        child=serializers.FileField(), help_text="one part per file; its filename is its repo path"
                    ),
                    "message": serializers.CharField(required=False),
                    "description": serializers.CharField(required=False),
                    "sha256:<path>": serializers.CharField(required=False, help_text="expected sha256 of <path>"),
                },
            )
        },
        responses={
            201: OpenApiResponse(description="the new revision: sha, commit_url, manifest, warnings"),
            200: OpenApiResponse(description="nothing changed: created=false, the current revision"),
            400: ERROR,
            401: ERROR,
            403: ERROR,
            404: ERROR,
            413: ERROR,
            415: ERROR,
            422: ERROR,
        },
        summary="Upload files as a new revision of main",
    )
    def post(self, request: Request, owner: str, name: str, repo_type: str = MODEL) -> Response:
        repo = publish.upload_target(request.user, request.auth, owner, name, repo_type)
        status, payload = publish.upload_from_request(repo, request.user, request._request)
        return Response(payload, status=status)


class SettingsInput(serializers.Serializer):
    private = serializers.BooleanField(required=False)
    visibility = serializers.ChoiceField(choices=["public", "private"], required=False)
    gated = serializers.JSONField(required=False)
    name = serializers.CharField(required=False, max_length=200)
    license = serializers.CharField(required=False, allow_blank=True)
    pipeline_tag = serializers.CharField(required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=MAX_REPO_TAGS)


@extend_schema(
    request=SettingsInput,
    responses={200: OpenApiResponse(description="the repo"), 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR},
    summary="Change a repo's settings (PUT takes huggingface_hub's update_repo_settings body)",
)
@api_view(["PATCH", "PUT"])
@permission_classes(WRITE)
def repo_settings(request: Request, owner: str, name: str, repo_type: str = MODEL) -> Response:
    repo = get_visible_repo(request.user, owner, name, repo_type)
    data = _valid(SettingsInput, request.data)
    if "gated" in data:
        if not publish.can_write(request.user, repo):
            raise ApiError(f"Only the owner may change the settings of {repo.repo_id}.", status_code=403)
        repo.gated = gating.gate_value(data["gated"])
        repo.save(update_fields=["gated"])
    private = data.get("private")
    if "visibility" in data:
        private = data["visibility"] == "private"
    repo = repo_update(
        request.user,
        repo,
        private=private,
        license=data.get("license"),
        pipeline_tag=data.get("pipeline_tag"),
        tags=data.get("tags"),
    )
    if data.get("name"):
        repo = repo_rename(request.user, repo, data["name"])
    return Response(repo_json(repo))


class TagInput(serializers.Serializer):
    tag = serializers.CharField(max_length=100)
    message = serializers.CharField(required=False, allow_blank=True, default="")


@extend_schema(
    methods=["POST"],
    request=TagInput,
    responses={201: OpenApiResponse(description="the tag"), 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    summary="Tag a revision (as on the Hugging Face hub)",
)
@extend_schema(methods=["DELETE"], responses={204: None, 403: ERROR, 404: ERROR}, summary="Delete a tag")
@api_view(["POST", "DELETE"])
@permission_classes(WRITE)
def revision_tag(request: Request, owner: str, name: str, revision: str, repo_type: str = MODEL) -> Response:
    """POST tags ``revision``; DELETE removes the tag named ``revision`` (huggingface_hub's delete_tag)."""
    repo = get_visible_repo(request.user, owner, name, repo_type)
    if not publish.can_write(request.user, repo):
        raise ApiError(f"Only the owner may change the tags of {repo.repo_id}.", status_code=403)
    if request.method == "DELETE":
        deleted, _ = Ref.objects.filter(repo=repo, name=revision, kind=Ref.Kind.TAG).delete()
        if not deleted:
            raise RevisionError(f"No tag '{revision}' in {repo.repo_id}.", status_code=404, code="RevisionNotFound")
        return Response(status=204)
    data = _valid(TagInput, request.data)
    target = resolve_revision(repo, revision)
    ref = tag_create(repo, data["tag"], target, data["message"])
    return Response({"tag": ref.name, "sha": target.sha, "message": ref.message}, status=201)


@extend_schema(
    responses=inline_serializer("OrgWrites", {"writes": serializers.ListField(child=serializers.DictField())}),
    summary="An organization's recent writes: who pushed what, with which token (org admins)",
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def org_writes(request: Request, org: str) -> Response:
    found = get_org(org)
    require_org_admin(request.user, found)
    rows = account_writes(found.account, limit=100)
    return Response({"writes": [{**row, "created": row["created"].isoformat()} for row in rows]})


class BranchInput(serializers.Serializer):
    startingPoint = serializers.CharField(required=False, allow_null=True, default=None)  # noqa: N815 - HF's name


@extend_schema(
    methods=["POST"],
    request=BranchInput,
    responses={200: OpenApiResponse(description="created"), 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
    summary="Create a branch at main or at startingPoint (huggingface_hub create_branch)",
)
@extend_schema(methods=["DELETE"], responses={200: None, 403: ERROR, 404: ERROR}, summary="Delete a branch")
@api_view(["POST", "DELETE"])
@permission_classes(WRITE)
def branch(request: Request, owner: str, name: str, branch: str, repo_type: str = MODEL) -> Response:
    repo = get_visible_repo(request.user, owner, name, repo_type)
    if not publish.can_write(request.user, repo):
        raise ApiError(f"Only the owner may change the branches of {repo.repo_id}.", status_code=403)
    if request.method == "DELETE":
        branch_delete(repo, branch)
        return Response({"deleted": branch})
    data = _valid(BranchInput, request.data if isinstance(request.data, dict) else {})
    start = resolve_revision(repo, data["startingPoint"])
    ref = branch_create(repo, branch, start)
    return Response({"branch": ref.name, "sha": start.sha})


@extend_schema(responses={200: OpenApiResponse(description="requests"), 403: ERROR, 404: ERROR},
               summary="Access requests of a gated repo by status (huggingface_hub list_*_access_requests)")  # fmt: skip
@api_view(["GET"])
@permission_classes(WRITE)
def access_request_list(request: Request, owner: str, name: str, status: str, repo_type: str = MODEL) -> Response:
    repo = get_visible_repo(request.user, owner, name, repo_type)
    return Response(gating.access_requests(request.user, repo, status))


class AccessHandleInput(serializers.Serializer):
    user = serializers.CharField(required=False, max_length=150)
    requestId = serializers.CharField(required=False, max_length=40)  # noqa: N815 - HF's name
    status = serializers.ChoiceField(choices=["pending", "accepted", "rejected"])
    rejectionReason = serializers.CharField(required=False, allow_blank=True, max_length=500)  # noqa: N815


@extend_schema(request=AccessHandleInput, responses={200: None, 400: ERROR, 403: ERROR, 404: ERROR},
               summary="Accept, reject or cancel an access request (huggingface_hub *_access_request)")  # fmt: skip
@api_view(["POST"])
@permission_classes(WRITE)
def access_request_handle(request: Request, owner: str, name: str, repo_type: str = MODEL) -> Response:
    repo = get_visible_repo(request.user, owner, name, repo_type)
    data = _valid(AccessHandleInput, request.data)
    if ("user" in data) == ("requestId" in data):
        raise ApiError("Name exactly one of 'user' or 'requestId'.", status_code=400)
    gating.access_handle(
        request.user,
        repo,
        username=data.get("user"),
        request_id=data.get("requestId"),
        status=data["status"],
        reason=data.get("rejectionReason", ""),
    )
    return Response({"status": data["status"]})


class AccessGrantInput(serializers.Serializer):
    user = serializers.CharField(max_length=150)


@extend_schema(request=AccessGrantInput, responses={200: None, 403: ERROR, 404: ERROR, 409: ERROR},
               summary="Give a user access without a request (huggingface_hub grant_access)")  # fmt: skip
@api_view(["POST"])
@permission_classes(WRITE)
def access_grant(request: Request, owner: str, name: str, repo_type: str = MODEL) -> Response:
    repo = get_visible_repo(request.user, owner, name, repo_type)
    gating.access_grant(request.user, repo, _valid(AccessGrantInput, request.data)["user"])
    return Response({"status": "accepted"})


@extend_schema(request=None, responses={200: None, 400: ERROR, 401: ERROR, 409: ERROR},
               summary="Ask for access to a gated repo's files")  # fmt: skip
@api_view(["POST"])
@permission_classes(WRITE)
def access_ask(request: Request, owner: str, name: str, repo_type: str = MODEL) -> Response:
    if not request.user.is_authenticated:
        raise ApiError("Sign in (or send a token) to ask for access.", status_code=401)
    repo = get_visible_repo(request.user, owner, name, repo_type)
    fields = request.data if isinstance(request.data, dict) else {}
    row = gating.access_ask(request.user, repo, {str(k)[:64]: str(v)[:500] for k, v in list(fields.items())[:10]})
    return Response({"status": row.status})
