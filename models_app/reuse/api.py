"""The read API: one view per URL serves both the native REST API and the Hugging Face clients.

Bodies are built from ``.values()`` rows and serialized with orjson (a DRF
``ModelSerializer`` costs about 2x per row, see ``bench/bench_list_api.py``).
Revisions in URLs may be quoted (``refs%2Fpr%2F1``): they are split from the
raw path the ASGI server received, before Django decodes it.
"""

from __future__ import annotations

from urllib.parse import unquote, urlencode

import orjson
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.views import APIView

from hub.api import ApiError, error_response
from models_app.bounds import MAX_PATHS_INFO_PATHS, check_count
from models_app.engagement.likes import like_set, liked_by, likers
from models_app.hf.errors import HubNotFound, missing_repo
from models_app.models import ModelRepo, Revision
from models_app.repos import gating
from models_app.repos.revisions import RevisionError, resolve_revision
from models_app.repos.rules import MODEL, NOUNS, can_manage, can_write, find_visible_repo, repo_delete, visible_repos
from models_app.reuse import browse, repo_info


def json_response(data, *, status: int = 200, link: str | None = None) -> HttpResponse:
    # HF clients parse timestamps strictly as ...Z (UTC), not +00:00.
    response = HttpResponse(orjson.dumps(data, option=orjson.OPT_UTC_Z), status=status, content_type="application/json")
    if link:
        response["Link"] = f'<{link}>; rel="next"'
    return response


def next_url(request: HttpRequest, **params) -> str:
    query = request.GET.copy()
    for key, value in params.items():
        query[key] = value
    base = (
        settings.SITE_URL.rstrip("/") + request.path if settings.SITE_URL else request.build_absolute_uri(request.path)
    )
    return f"{base}?{urlencode(query, doseq=True)}"


def get_repo(request, owner: str, name: str, repo_type: str = MODEL) -> ModelRepo:
    repo = find_visible_repo(request.user, owner, name, repo_type, related=("validation",))
    if repo is None:
        raise missing_repo(request.user, owner, name, request.get_full_path(), repo_type)
    return repo


def get_revision(repo: ModelRepo, rev: str) -> Revision:
    try:
        return resolve_revision(repo, rev)
    except RevisionError as exc:
        raise HubNotFound(404, "RevisionNotFound", exc.message) from None


def rev_and_path(request, marker: str, rest: str) -> tuple[str, str]:
    """``<rev>/<path>`` after ``/<marker>/``, keeping a quoted ``/`` inside the revision."""
    scope = getattr(request, "scope", None)
    raw = (scope or {}).get("raw_path")
    if raw:
        parts = (
            raw.decode("latin-1").split("?", 1)[0].split("/", 6)
        )  # '', api, models|datasets, owner, name, marker, tail
        if len(parts) == 7 and parts[5] == marker:
            rev, _, path = parts[6].partition("/")
            return unquote(rev), unquote(path)
    rev, _, path = rest.partition("/")
    return rev, path


def _flag(request, name: str) -> bool:
    return (request.GET.get(name) or "").lower() in ("1", "true", "yes")


class HubReadView(APIView):
    """Turns HubNotFound into the HF error shape (status, X-Error-Code, X-Error-Message)."""

    def handle_exception(self, exc):
        if isinstance(exc, HubNotFound):
            return exc.response()
        return super().handle_exception(exc)

    def perform_content_negotiation(self, request, force=False):
        # Success bodies are orjson bytes, so no renderer is chosen up front (a measurable part of a
        # list request); an error Response negotiates then (finalize_response calls back with force).
        if force:
            return super().perform_content_negotiation(request, force=True)
        return (None, None)


LIST_PARAMS = [
    OpenApiParameter(name, OpenApiTypes.STR, description=text)
    for name, text in (
        ("search", "substring of owner/name"),
        ("author", "owner username"),
        ("filter", "tag, task, library or license (repeatable; HF client)"),
        ("pipeline_tag", "task"),
        ("library", "library name"),
        ("license", "license id"),
        ("language", "language code"),
        ("verdict", "validation verdict: passed, failed or error"),
        ("sort", "downloads, likes, updated (lastModified), created (createdAt), score, trending"),
        ("direction", "-1 (default) descending, 1 ascending"),
        ("limit", "page size, at most 100"),
        ("cursor", "opaque; from the Link header of the previous page"),
    )
]


class ModelListApi(HubReadView):
    def dispatch(self, request, *args, **kwargs):
        # Anonymous listing (HF clients without a token, crawlers, the public) is the hot path: with no
        # credentials DRF would only conclude "anonymous", at about 0.5 ms a request (15% of a 50-row
        # page, bench/bench_list_api.py), so it answers directly. Anything with credentials goes through DRF.
        if (
            request.method == "GET"
            and "HTTP_AUTHORIZATION" not in request.META
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
        ):
            try:
                return self.listing(request, AnonymousUser(), **kwargs)
            except ApiError as exc:
                return error_response(exc.message, exc.status_code)
        return super().dispatch(request, *args, **kwargs)

    @extend_schema(
        parameters=LIST_PARAMS,
        responses=OpenApiTypes.OBJECT,
        summary="List models (HF list_models)",
        operation_id="models_list",
    )
    def get(self, request, repo_type: str = MODEL):
        return self.listing(request, request.user, repo_type)

    def listing(self, request, user, repo_type: str = MODEL) -> HttpResponse:
        query = browse.Query.from_params(request.GET, repo_type=repo_type)
        rows, cursor = browse.sorted_page(browse.filtered(user, query), query)
        link = next_url(request, cursor=cursor) if cursor else None
        items = [browse.row_json(row) for row in rows]
        if _flag(request, "full") or "siblings" in request.GET.getlist("expand"):
            repo_info.add_siblings(items, [row["pk"] for row in rows])
        return json_response(items, link=link)


class ModelDetailApi(HubReadView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT, summary="Model info at main (HF model_info shape)", operation_id="model_info"
    )
    def get(self, request, owner: str, name: str, repo_type: str = MODEL):
        repo = get_repo(request, owner, name, repo_type)
        try:
            revision = resolve_revision(repo, None)
        except RevisionError:
            revision = None  # a repo created but not yet committed to
        return json_response(repo_info.model_info(repo, revision))

    @extend_schema(
        responses={204: None}, summary="Delete the model (owner only, write token)", operation_id="model_delete"
    )
    def delete(self, request, owner: str, name: str, repo_type: str = MODEL):
        repo = get_repo(request, owner, name, repo_type)
        if not can_manage(request.user, repo):
            raise ApiError(f"Only the owner (or an org admin) can delete this {NOUNS[repo_type]}.", status_code=403)
        repo_delete(request.user, repo)
        return HttpResponse(status=204)


class ModelRevisionApi(HubReadView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="Model info at a branch, tag or sha",
        operation_id="model_info_at_revision",
    )
    def get(self, request, owner: str, name: str, rest: str, repo_type: str = MODEL):
        repo = get_repo(request, owner, name, repo_type)
        rev, _ = rev_and_path(request, "revision", rest)
        return json_response(repo_info.model_info(repo, get_revision(repo, rev)))


class TreeApi(HubReadView):
    @extend_schema(
        parameters=[
            OpenApiParameter("recursive", OpenApiTypes.BOOL),
            OpenApiParameter("expand", OpenApiTypes.BOOL, description="add lastCommit per file"),
            OpenApiParameter("cursor", OpenApiTypes.STR),
        ],
        responses=OpenApiTypes.OBJECT,
        summary="Files and folders of a revision (HF list_repo_tree)",
        operation_id="model_tree",
    )
    def get(self, request, owner: str, name: str, rest: str, repo_type: str = MODEL):
        repo = get_repo(request, owner, name, repo_type)
        rev, path = rev_and_path(request, "tree", rest)
        revision = get_revision(repo, rev)
        entries = repo_info.tree_entries(revision, path, _flag(request, "recursive"))
        expand = _flag(request, "expand")
        page = repo_info.TREE_PAGE_EXPANDED if expand else repo_info.TREE_PAGE
        start = _int(request.GET.get("cursor"))
        chunk = entries[start : start + page]
        if expand:
            repo_info.add_last_commits(chunk, repo, revision)
        more = start + page < len(entries)
        return json_response(chunk, link=next_url(request, cursor=start + page) if more else None)


class RefsApi(HubReadView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT, summary="Branches and tags (HF list_repo_refs)", operation_id="model_refs"
    )
    def get(self, request, owner: str, name: str, repo_type: str = MODEL):
        repo = get_repo(request, owner, name, repo_type)
        return json_response(repo_info.refs_json(repo, pull_requests=_flag(request, "include_prs")))


class CommitsApi(HubReadView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="Revision history, newest first (HF list_repo_commits)",
        operation_id="model_commits",
    )
    def get(self, request, owner: str, name: str, rest: str, repo_type: str = MODEL):
        repo = get_repo(request, owner, name, repo_type)
        rev, _ = rev_and_path(request, "commits", rest)
        chain = repo_info.history(repo, get_revision(repo, rev))
        start, page = _int(request.GET.get("p")), 100
        more = start + page < len(chain)
        formatted = "formatted" in request.GET.getlist("expand[]") + request.GET.getlist("expand")
        return json_response(
            [repo_info.commit_json(row, formatted=formatted) for row in chain[start : start + page]],
            link=next_url(request, p=start + page) if more else None,
        )


class LikeApi(HubReadView):
    @extend_schema(
        request=None, responses=OpenApiTypes.OBJECT, summary="Like the model (HF like)", operation_id="model_like"
    )
    def post(self, request, owner: str, name: str, repo_type: str = MODEL):
        return self._set(request, owner, name, repo_type, True)

    @extend_schema(
        request=None, responses=OpenApiTypes.OBJECT, summary="Unlike the model (HF unlike)", operation_id="model_unlike"
    )
    def delete(self, request, owner: str, name: str, repo_type: str = MODEL):
        return self._set(request, owner, name, repo_type, False)

    def _set(self, request, owner: str, name: str, repo_type: str, liked: bool):
        if not request.user.is_authenticated:
            raise ApiError(f"Sign in (or send a token) to like a {NOUNS[repo_type]}.", status_code=401)
        repo = get_repo(request, owner, name, repo_type)
        return json_response({"liked": liked, "likes": like_set(request.user, repo, liked)})


def _int(value: str | None) -> int:
    try:
        return max(int(value or 0), 0)
    except ValueError:
        raise ApiError("The cursor is not valid; start again from the first page.", status_code=400) from None


class PathsInfoApi(HubReadView):
    # A read sent as POST (the path list can be long): a read token may make it, as on the HF hub.
    # Who may see the repo is decided by get_repo, as for every other read.
    permission_classes = ()

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses=OpenApiTypes.OBJECT,
        summary="Files and folders at given paths of a revision (HF get_paths_info)",
        operation_id="model_paths_info",
    )
    def post(self, request, owner: str, name: str, rest: str, repo_type: str = MODEL):
        repo = get_repo(request, owner, name, repo_type)
        rev, _ = rev_and_path(request, "paths-info", rest)
        revision = get_revision(repo, rev)
        data = request.data
        paths = data.getlist("paths") if hasattr(data, "getlist") else data.get("paths")
        if isinstance(paths, str):
            paths = [paths]
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise ApiError("'paths' must be a list of paths.", status_code=400)
        check_count(len(paths), MAX_PATHS_INFO_PATHS, "paths", status_code=400)
        expand = str(data.get("expand", "")).lower() in ("1", "true")
        entries = repo_info.paths_info(revision, paths)
        if expand:
            repo_info.add_last_commits(entries, repo, revision)
        return json_response(entries)


class AuthCheckApi(HubReadView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="May the caller read (or, with /write, write) this repo? (HF auth_check)",
        operation_id="model_auth_check",
    )
    def get(self, request, owner: str, name: str, repo_type: str = MODEL, write: bool = False):
        repo = get_repo(request, owner, name, repo_type)
        if not gating.has_access(request.user, repo):
            anonymous = not request.user.is_authenticated
            raise HubNotFound(401 if anonymous else 403, "GatedRepo", gating.gated_message(repo, request.user))
        if write and not can_write(request.user, repo):
            raise ApiError(f"You cannot write to {repo.repo_id}.", status_code=403)
        return json_response({"ok": True, "access": "write" if can_write(request.user, repo) else "read"})


class AuthCheckWriteApi(AuthCheckApi):
    """``auth-check/write``: its own class so the API schema gives it its own operationId."""

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="May the caller write to this repo? (HF auth_check for writes)",
        operation_id="model_auth_check_write",
    )
    def get(self, request, owner: str, name: str, repo_type: str = MODEL, write: bool = True):
        return super().get(request, owner, name, repo_type, write=True)


class LikersApi(HubReadView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Who liked the repo (HF list_repo_likers)")
    def get(self, request, owner: str, name: str, repo_type: str = MODEL):
        return json_response(likers(get_repo(request, owner, name, repo_type)))


class UserLikesApi(HubReadView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="What a user liked (HF list_liked_repos)")
    def get(self, request, username: str):
        return json_response(liked_by(username, visible_repos(request.user)))
