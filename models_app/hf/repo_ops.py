"""Whole-repo operations of the Hugging Face API: move, duplicate, squash history.

``move_repo`` -> ``POST /api/repos/move``; ``duplicate_repo`` ->
``POST /api/{models|datasets}/{id}/duplicate``; ``super_squash_history`` ->
``POST /api/{models|datasets}/{id}/super-squash/{branch}``. Each checks its input,
calls one rule in ``models_app/repos/`` and shapes the answer the client parses.
"""

from __future__ import annotations

from django.db import transaction
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from hub.api import ApiError
from models_app.hf.commits import hub_base_url, repo_for_write
from models_app.hf.schema import hf_schema
from models_app.hf.write import WRITERS, _repo_type, conflict
from models_app.repos.revisions import DEFAULT_BRANCH, copy_into, resolve_revision, squash_branch
from models_app.repos.rules import MODEL, find_visible_repo, repo_create, repo_move


def _split(repo_id, field: str) -> tuple[str, str]:
    if not isinstance(repo_id, str) or repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ApiError(f"'{field}' must read namespace/name.", status_code=400)
    owner, name = repo_id.split("/")
    return owner, name


@hf_schema("Rename a repo or move it to another namespace (huggingface_hub move_repo)")
@api_view(["POST"])
@permission_classes(WRITERS)
def repos_move(request) -> Response:
    data = request.data if isinstance(request.data, dict) else {}
    repo_type = _repo_type(data.get("type"))
    owner, name = _split(data.get("fromRepo"), "fromRepo")
    new_owner, new_name = _split(data.get("toRepo"), "toRepo")
    repo = repo_for_write(request.user, owner, name, repo_type)
    repo = repo_move(request.user, repo, new_owner, new_name)
    return Response({"url": f"{hub_base_url(request)}{repo.web_path}", "id": repo.repo_id})


@hf_schema("Copy a repo's files into a new repo (huggingface_hub duplicate_repo)")
@api_view(["POST"])
@permission_classes(WRITERS)
def duplicate(request, owner: str, name: str, repo_type: str = MODEL) -> Response:
    source = find_visible_repo(request.user, owner, name, repo_type)
    if source is None:
        raise ApiError(f"Repository {owner}/{name} not found.", status_code=404, code="RepoNotFound")
    data = request.data if isinstance(request.data, dict) else {}
    new_owner, new_name = _split(data.get("repository"), "repository")
    if new_owner.lower() != request.user.username.lower():
        raise ApiError(f"You can only duplicate into your own namespace ({request.user.username}).", status_code=403)
    visibility = data.get("visibility")
    private = source.private if visibility is None else visibility == "private"
    base = hub_base_url(request)
    existing = find_visible_repo(request.user, new_owner, new_name, repo_type)
    if existing is not None:
        # duplicate_repo(exist_ok=True) reads 'url' from the 409 body.
        return conflict(
            f"A {repo_type} repository called {existing.repo_id} already exists.", f"{base}{existing.web_path}"
        )
    with transaction.atomic():
        target = repo_create(request.user, new_name, private=private, repo_type=repo_type)
        copy_into(
            resolve_revision(source, DEFAULT_BRANCH),
            target,
            author=request.user,
            message=f"Duplicate from {owner}/{name}",
        )
    return Response({"url": f"{base}{target.web_path}", "id": target.repo_id, "filesCopyPending": False})


@hf_schema("Squash a branch's history into one commit (huggingface_hub super_squash_history)")
@api_view(["POST"])
@permission_classes(WRITERS)
def super_squash(request, owner: str, name: str, branch: str, repo_type: str = MODEL) -> Response:
    repo = repo_for_write(request.user, owner, name, repo_type)
    data = request.data if isinstance(request.data, dict) else {}
    message = data.get("message")
    if message is not None and not isinstance(message, str):
        raise ApiError("'message' must be a string.", status_code=400)
    revision = squash_branch(repo, branch, author=request.user, message=message or f"Super-squash branch '{branch}'")
    return Response({"commitOid": revision.sha})
