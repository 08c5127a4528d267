"""Website pages for publishing: new model or dataset, upload, a revision, the revisions list, settings."""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from hub.api import ApiError
from hub.orgs import creatable_namespaces, orgs_of
from models_app.models import Blob, RepoFile, Revision
from models_app.publish import service as publish
from models_app.publish.uploads import Ingest
from models_app.repos.card_vocab import LICENSES, PIPELINE_TAGS
from models_app.repos.quota import quota_summary
from models_app.repos.revisions import manifest_changes
from models_app.repos.rules import (
    MODEL,
    NOUNS,
    can_manage,
    can_write,
    get_visible_repo,
    namespace_check,
    repo_create,
    repo_delete,
    repo_rename,
    repo_update,
)

LICENSE_CHOICES = sorted(LICENSES - {"other", "unknown"}) + ["other", "unknown"]
TASK_CHOICES = sorted(PIPELINE_TAGS)


def _owned_repo(request: HttpRequest, owner: str, name: str, repo_type: str):
    """The repo if the user owns it; 404 when they may not see it, 403 when they may see but not change it."""
    repo = get_visible_repo(request.user, owner, name, repo_type)
    if not can_write(request.user, repo):
        raise PermissionDenied("Only the owner can do this.")
    return repo


@login_required
def new_model(request: HttpRequest) -> HttpResponse:
    """``/new``: a model, or a dataset with ``type=dataset`` (the form's choice, or ``/new?type=dataset``)."""
    error, status = None, 200
    repo_type = request.POST.get("type") or request.GET.get("type") or MODEL
    if repo_type not in NOUNS:
        repo_type = MODEL
    if request.method == "POST":
        tags = [tag.strip() for tag in request.POST.get("tags", "").split(",") if tag.strip()]
        try:
            repo = repo_create(
                namespace_check(request.user, request.POST.get("owner", "").strip()),
                request.POST.get("name", "").strip(),
                creator=request.user,
                private=request.POST.get("private") == "on",
                license=request.POST.get("license", ""),
                pipeline_tag=request.POST.get("pipeline_tag", ""),
                tags=tags,
                repo_type=repo_type,
            )
        except ApiError as exc:
            error, status = exc.message, exc.status_code
        else:
            messages.success(request, f"Created {repo.repo_id}. Now upload its files.")
            return redirect(f"{repo.web_path}/upload")
    context = {
        "licenses": LICENSE_CHOICES,
        "tasks": TASK_CHOICES,
        "error": error,
        "form": request.POST,
        "repo_type": repo_type,
        "namespaces": creatable_namespaces(request.user),
    }
    return render(request, "models_app/new.html", context, status=status)


@csrf_exempt  # the CSRF token is checked by the upload itself, before the first file (see _csrf_check)
def upload_page(request: HttpRequest, owner: str, name: str, repo_type: str = MODEL) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    repo = _owned_repo(request, owner, name, repo_type)
    limits = Ingest(repo).limits
    context = {
        "repo": repo,
        "active": "files",
        "limits": limits,
        "remaining": max(min(limits.repo_remaining, limits.user_remaining), 0),
    }
    if request.method != "POST":
        return render(request, "models_app/upload.html", context)
    # No-JS fallback: the page's script posts to the streamed API instead.
    try:
        status, payload = publish.upload_from_request(
            repo, request.user, request, before_files=lambda fields: _csrf_check(request, fields)
        )
    except ApiError as exc:
        context["error"] = exc.message
        context["detail"] = exc.extra
        return render(request, "models_app/upload.html", context, status=exc.status_code)
    messages.success(request, payload["message"])
    for warning in payload["warnings"]:
        messages.warning(request, f"README.md: {warning}")
    return redirect(payload["commit_url"])


def _csrf_check(request: HttpRequest, fields: dict) -> None:
    """Django's CSRF check, fed the token from the form fields read so far (the body is not parsed twice)."""
    request._post = QueryDict(mutable=True)
    request._post["csrfmiddlewaretoken"] = fields.get("csrfmiddlewaretoken", "")
    middleware = CsrfViewMiddleware(lambda r: None)
    middleware.process_request(request)
    if middleware.process_view(request, lambda r: None, (), {}) is not None:
        raise ApiError("CSRF check failed: reload the page and try again.", status_code=403)


def commit_page(request: HttpRequest, owner: str, name: str, sha: str, repo_type: str = MODEL) -> HttpResponse:
    repo = get_visible_repo(request.user, owner, name, repo_type)
    revision = Revision.objects.filter(repo=repo, sha=sha.lower()).select_related("author", "parent").first()
    if revision is None:
        raise Http404(f"No revision {sha} in {repo.repo_id}.")
    new = dict(RepoFile.objects.filter(revision=revision).values_list("path", "blob_id"))
    old = dict(RepoFile.objects.filter(revision_id=revision.parent_id).values_list("path", "blob_id"))
    changes = manifest_changes(old, new)
    sizes = dict(Blob.objects.filter(sha256__in={c.sha256 for c in changes}).values_list("sha256", "size"))
    rows = [{"path": c.path, "kind": c.kind, "sha256": c.sha256, "size": sizes.get(c.sha256)} for c in changes]
    context = {"repo": repo, "active": "revisions", "revision": revision, "changes": rows, "file_count": len(new)}
    return render(request, "models_app/commit.html", context)


def commits_page(
    request: HttpRequest, owner: str, name: str, rev: str = "main", repo_type: str = MODEL
) -> HttpResponse:
    repo = get_visible_repo(request.user, owner, name, repo_type)
    revisions = Revision.objects.filter(repo=repo).select_related("author", "parent").order_by("-created", "-id")
    page = Paginator(revisions, 50).get_page(request.GET.get("page"))
    ids = {r.id for r in page} | {r.parent_id for r in page if r.parent_id}
    manifests: dict[int, dict[str, str]] = defaultdict(dict)
    # One query for the page's manifests and their parents', instead of two per row.
    for revision_id, path, blob_id in RepoFile.objects.filter(revision_id__in=ids).values_list(
        "revision_id", "path", "blob_id"
    ):
        manifests[revision_id][path] = blob_id
    rows = [
        {"revision": r, "changed": len(manifest_changes(manifests.get(r.parent_id, {}), manifests[r.id]))} for r in page
    ]
    tags = defaultdict(list)
    for ref in repo.refs.select_related("revision"):
        tags[ref.revision_id].append(ref.name)
    for row in rows:
        row["refs"] = tags.get(row["revision"].id, [])
    return render(request, "models_app/commits.html", {"repo": repo, "active": "revisions", "rows": rows, "page": page})


@login_required
def settings_page(request: HttpRequest, owner: str, name: str, repo_type: str = MODEL) -> HttpResponse:
    repo = get_visible_repo(request.user, owner, name, repo_type)
    if not can_manage(request.user, repo):  # settings are the owner's, an org admin's or staff's
        raise PermissionDenied("Only the owner (or an admin of its organization) can change its settings.")
    error, status = None, 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "visibility":
                repo_update(request.user, repo, private=request.POST.get("private") == "on")
                messages.success(request, f"{repo.repo_id} is now {'private' if repo.private else 'public'}.")
            elif action == "rename":
                repo = repo_rename(request.user, repo, request.POST.get("new_name", "").strip())
                messages.success(request, f"Renamed to {repo.repo_id}; the old address redirects here.")
            elif action == "delete":
                if request.POST.get("confirm", "").strip() != repo.repo_id:
                    raise ApiError(f"Type {repo.repo_id} exactly to confirm the deletion.", status_code=400)
                repo_id = repo.repo_id
                repo_delete(request.user, repo)
                messages.success(request, f"Deleted {repo_id}.")
                return redirect("user_page", username=request.user.username)
            else:
                raise ApiError("Unknown action.", status_code=400)
            return redirect(f"{repo.web_path}/settings")
        except ApiError as exc:
            error, status = exc.message, exc.status_code
            repo.refresh_from_db()
    return render(
        request, "models_app/settings.html", {"repo": repo, "active": "settings", "error": error}, status=status
    )


@login_required
def storage_page(request: HttpRequest) -> HttpResponse:
    """``/settings/storage/``: what the user's repos hold against their quota, and each of their orgs'."""
    accounts = [request.user, *(m.org.account for m in orgs_of(request.user))]
    rows = [{"account": a, **quota_summary(a)} for a in accounts]
    return render(request, "models_app/storage.html", {"rows": rows, "repo_quota": settings.HUB_REPO_QUOTA})
