"""The Hugging Face write protocol: the endpoints ``huggingface_hub`` calls to publish.

``create_repo`` -> ``POST /api/repos/create`` (``"type": "dataset"`` for a dataset); ``upload_file``/``upload_folder``
/``push_to_hub`` -> ``validate-yaml`` (README.md), ``preupload``, the LFS batch
(``models_app/hf/lfs.py``) and ``commit``. Rules live in ``commits.py``; every
byte goes through ``uploads.Ingest`` and every change through ``revision_create``.
"""

from __future__ import annotations

from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from hub.api import ApiError
from hub.headers import header_safe
from hub.permissions import TokenScopeAllows
from models_app.hf.commits import (
    branch_tip,
    hf_commit,
    hub_base_url,
    ndjson_lines,
    preupload_answer,
    repo_for_commit,
    wants_pr,
)
from models_app.hf.schema import hf_schema
from models_app.repos.cards import validate_card
from models_app.repos.rules import (
    MODEL,
    NOUNS,
    can_manage,
    find_visible_repo,
    namespace_check,
    repo_create,
    repo_delete,
)

WRITERS = [IsAuthenticated, TokenScopeAllows]


def _repo_type(repo_type) -> str:
    """The body's repo type (huggingface_hub sends none for a model); spaces are refused."""
    if repo_type in (None, ""):
        return MODEL
    if repo_type not in NOUNS:
        raise ApiError(
            f"This hub hosts models and datasets only; {repo_type} repositories are not supported.", status_code=400
        )
    return repo_type


def conflict(message: str, url: str) -> Response:
    """409 with the existing repo's ``url``: create_repo and duplicate_repo with ``exist_ok`` read it."""
    response = Response({"error": message, "url": url}, status=409)
    response["X-Error-Message"] = header_safe(message)
    return response


def _existing_elsewhere(request, organization, name, repo_type) -> Response | None:
    """A 409 naming ``organization/name`` when the caller can see it there, before the namespace rule says 403.

    huggingface_hub's ``create_repo(exist_ok=True)`` on a repo the caller may read but not create in
    needs the repo's URL back, as the HF hub gives it.
    """
    if organization in (None, "") or organization.lower() == request.user.username.lower():
        return None
    existing = find_visible_repo(request.user, organization, name, repo_type)
    if existing is None:
        return None
    return conflict(f"{existing.repo_id} already exists.", f"{hub_base_url(request)}{existing.web_path}")


@hf_schema("Create a repo (huggingface_hub create_repo)")
@api_view(["POST"])
@permission_classes(WRITERS)
def repos_create(request) -> Response:
    data = request.data if isinstance(request.data, dict) else {}
    repo_type = _repo_type(data.get("type"))
    organization = data.get("organization")
    if organization is not None and not isinstance(organization, str):
        raise ApiError("'organization' must be a string.", status_code=400)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ApiError("'name' is required.", status_code=400)
    foreign = _existing_elsewhere(request, organization, name, repo_type)
    if foreign is not None:
        return foreign
    namespace = namespace_check(request.user, organization)  # 403 in an org where the user may not create
    private = bool(data.get("private")) or data.get("visibility") == "private"
    base = hub_base_url(request)
    try:
        repo = repo_create(namespace, name, private=private, repo_type=repo_type, creator=request.user)
    except ApiError as exc:
        if exc.status_code != 409:
            raise
        # huggingface_hub's create_repo(exist_ok=True) reads 'url' from the 409 body.
        existing = find_visible_repo(request.user, namespace.username, name, repo_type)
        return conflict(exc.message, f"{base}{existing.web_path}")
    return Response({"url": f"{base}{repo.web_path}", "name": repo.repo_id, "id": repo.repo_id})


@hf_schema("Delete a repo (huggingface_hub delete_repo)")
@api_view(["DELETE"])
@permission_classes(WRITERS)
def repos_delete(request) -> Response:
    data = request.data if isinstance(request.data, dict) else {}
    repo_type = _repo_type(data.get("type"))
    owner = data.get("organization") or request.user.username
    name = data.get("name") or ""
    repo = find_visible_repo(request.user, owner, name, repo_type)
    if repo is None:
        raise ApiError(f"Repository {owner}/{name} not found.", status_code=404, code="RepoNotFound")
    if not can_manage(request.user, repo):
        raise ApiError(f"You cannot delete {repo.repo_id}: only its owner (or an org admin) can.", status_code=403)
    repo_delete(request.user, repo)
    return Response({"deleted": f"{owner}/{name}"})


@hf_schema("Validate a model card's YAML front matter")
@api_view(["POST"])
@permission_classes([AllowAny])  # stateless, and huggingface_hub's RepoCard.validate sends no token
def validate_yaml(request) -> Response:
    data = request.data if isinstance(request.data, dict) else {}
    _repo_type(data.get("repoType"))
    content = data.get("content")
    if not isinstance(content, str):
        raise ApiError("'content' (the README.md text) is required.", status_code=400)
    errors, warnings = validate_card(content)
    body = {"errors": [_issue(e) for e in errors], "warnings": [_issue(w) for w in warnings]}
    if errors:
        message = "Invalid metadata in README.md: " + "; ".join(item["message"] for item in body["errors"])
        response = Response({"error": message, **body}, status=400)
        response["X-Error-Message"] = header_safe(message)
        return response
    return Response(body)


def _issue(item) -> dict:
    if isinstance(item, dict):
        return {**item, "message": str(item.get("message", item))}
    return {"message": str(item)}


@hf_schema("Tell the client how to upload each file (regular or LFS)")
@api_view(["POST"])
@permission_classes(WRITERS)
def preupload(request, owner: str, name: str, rev: str, repo_type: str = MODEL) -> Response:
    repo = repo_for_commit(request.user, owner, name, repo_type, wants_pr(request.query_params.get("create_pr")), rev)
    data = request.data if isinstance(request.data, dict) else {}
    files = preupload_answer(repo, branch_tip(repo, rev), data.get("files"), data.get("gitIgnore"))
    return Response({"files": files})


@hf_schema("Commit files (application/x-ndjson, huggingface_hub create_commit)")
@api_view(["POST"])
@permission_classes(WRITERS)
def commit(request, owner: str, name: str, rev: str, repo_type: str = MODEL) -> Response:
    """An ndjson commit. A commit that changes nothing creates no revision and answers the current sha."""
    create_pr = wants_pr(request.query_params.get("create_pr"))
    repo = repo_for_commit(request.user, owner, name, repo_type, create_pr, rev)
    # Read line by line from the body stream: request.data would load it all (and refuse it past 10 MiB).
    result = hf_commit(repo, request.user, rev, ndjson_lines(request._request.readline), create_pr=create_pr)
    sha, base = result.revision.sha, hub_base_url(request)
    return Response(
        {
            "success": True,
            "commitOid": sha,
            "commitUrl": f"{base}{repo.web_path}/commit/{sha}",
            # The client reads the PR's revision (refs/pr/N) from this URL's last segment.
            "pullRequestUrl": f"{base}{repo.web_path}/discussions/{result.pr}" if result.pr else None,
            "created": result.created,
        }
    )
