"""Website pages for finding and taking models and datasets: home, the lists, a repo's card and files, likes."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from hub.api import ApiError
from hub.orgs import find_org, members_of, orgs_of, role_in
from models_app.engagement import download_counts
from models_app.engagement.likes import has_liked, like_set
from models_app.hf.errors import HubNotFound
from models_app.models import API_SEGMENTS, Ref
from models_app.repos import cards
from models_app.repos.activity import account_writes
from models_app.repos.revisions import RevisionError, resolve_revision
from models_app.repos.rules import DATASET, MODEL, can_write, get_visible_repo, visible_repos
from models_app.reuse import browse, downloads, preview, repo_info, snippets
from models_app.storage import get_store


def home(request: HttpRequest) -> HttpResponse:
    repos = visible_repos(request.user, MODEL).select_related("validation")
    trending = (
        repos.annotate(recent=browse.recent_downloads(browse.TRENDING_DAYS)).filter(recent__gt=0).order_by("-recent")
    )
    return render(
        request,
        "models_app/home.html",
        {
            "popular": repos.order_by("-downloads", "-pk")[:8],
            "validated": repos.filter(validation__isnull=False).order_by("-validation__finished")[:8],
            "newest": repos.order_by("-created", "-pk")[:8],
            "trending": trending[:8],
        },
    )


def model_list(request: HttpRequest, repo_type: str = MODEL) -> HttpResponse:
    """``/models`` or, with ``repo_type="dataset"``, ``/datasets``."""
    try:
        query = browse.Query.from_params(request.GET, repo_type=repo_type)
        rows, cursor = browse.sorted_page(browse.filtered(request.user, query), query)
    except ApiError as exc:
        return render(request, "400.html", {"reason": exc.message}, status=400)
    params = request.GET.copy()
    params.pop("cursor", None)
    next_params = params.copy()
    if cursor:
        next_params["cursor"] = cursor
    return render(
        request,
        "models_app/model_list.html",
        {
            "rows": rows,
            "query": query,
            "facets": browse.facet_values(request.user, repo_type),
            "repo_type": repo_type,
            "list_path": f"/{API_SEGMENTS[repo_type]}",
            "sorts": browse.SORT_LABELS,
            "next_query": next_params.urlencode() if cursor else "",
            "first_query": params.urlencode() if query.cursor else "",
        },
    )


def user_page(request: HttpRequest, username: str) -> HttpResponse:
    owner = get_object_or_404(get_user_model(), username__iexact=username)
    # Each card shows the owner and the verdict badge: fetched with the rows, not once a card.
    visible = visible_repos(request.user).select_related("owner", "validation")
    owned = visible.filter(owner=owner).order_by("-updated")
    liked = visible.filter(like_rows__user=owner).order_by("-like_rows__created")[:24]
    context = {
        "owner": owner,
        "repos": owned.filter(repo_type=MODEL),
        "datasets": owned.filter(repo_type=DATASET),
        "liked": liked,
    }
    org = find_org(owner.username)
    if org is not None:  # an organization's page: its repos and members
        role = role_in(request.user, org.pk)
        context.update(org=org, members=members_of(org), my_role=role)
        if role == "admin" or request.user.is_staff:  # which members' tokens wrote to the org's repos
            context["writes"] = account_writes(owner, limit=20)
        return render(request, "models_app/org.html", context)
    context["orgs"] = orgs_of(owner)
    return render(request, "models_app/user.html", context)


def model_page(request: HttpRequest, owner: str, name: str, repo_type: str = MODEL) -> HttpResponse:
    repo = get_visible_repo(request.user, owner, name, repo_type)
    try:
        revision = resolve_revision(repo, None)
    except RevisionError:
        revision = None
    card = cards.render_card(repo, revision)
    return render(
        request,
        "models_app/model_page.html",
        {
            "repo": repo,
            "active": "card",
            "revision": revision,
            # render_card sanitizes (nh3); a repo without README.md gets a card generated from its metadata.
            "card_html": mark_safe(card.html),  # noqa: S308
            "card_generated": card.generated,
            "downloads_30d": download_counts.downloads_last_days(repo.pk, 30),
            "liked": has_liked(request.user, repo),
            "snippets": snippets.usage_snippets(repo, snippets.hub_endpoint(request)) if revision else [],
            "can_write": request.user.is_authenticated and can_write(request.user, repo),
        },
    )


def tree_page(
    request: HttpRequest, owner: str, name: str, rev: str, path: str = "", repo_type: str = MODEL
) -> HttpResponse:
    """A folder of a revision, or (when ``path`` names a file) that file's preview."""
    repo = get_visible_repo(request.user, owner, name, repo_type)
    try:
        revision = resolve_revision(repo, rev)
    except RevisionError as exc:
        raise Http404(exc.message) from None
    crumbs, walked = [], []
    for part in [p for p in path.strip("/").split("/") if p]:
        walked.append(part)
        crumbs.append({"name": part, "path": "/".join(walked)})
    context = {
        "repo": repo,
        "active": "files",
        "rev": rev,
        "revision": revision,
        "crumbs": crumbs,
        "refs": Ref.objects.filter(repo=repo).order_by("kind", "name").values("name", "kind"),
    }
    shown = preview.file_preview(revision, path.strip("/")) if path.strip("/") else None
    if shown is not None:
        return render(request, "models_app/blob.html", {**context, "preview": shown})
    try:
        entries = repo_info.tree_entries(revision, path, recursive=False)
    except HubNotFound as exc:
        raise Http404(exc.message) from None
    return render(request, "models_app/tree.html", {**context, "entries": entries})


@login_required
@require_POST
def like_toggle(request: HttpRequest, owner: str, name: str, repo_type: str = MODEL) -> HttpResponse:
    repo = get_visible_repo(request.user, owner, name, repo_type)
    like_set(request.user, repo, not has_liked(request.user, repo))
    return redirect(repo.web_path)


def resolve(request: HttpRequest, owner: str, name: str, rev: str, path: str, repo_type: str = MODEL) -> HttpResponse:
    """Fallback for the ``resolve`` raw-bytes route (test client, WSGI): same answer, bounded chunks."""
    headers = {k.lower().replace("_", "-"): v for k, v in request.headers.items()}
    client = f"{request.META.get('REMOTE_ADDR', '')}\n{request.headers.get('User-Agent', '')}"
    user = request.user if request.user.is_authenticated else None
    if "authorization" in headers or user is None:
        try:
            user = downloads.user_from_credentials(headers.get("authorization"), None) or user
        except HubNotFound as exc:
            return exc.response()
    try:
        answer = downloads.prepare(user, owner, name, rev, path, request.method, headers, client, repo_type)
    except HubNotFound as exc:
        return exc.response()
    if answer.blob_key is None or request.method == "HEAD":
        response = HttpResponse(answer.body if request.method != "HEAD" else b"", status=answer.status)
    else:
        response = StreamingHttpResponse(_chunks(answer), status=answer.status)
    for key, value in answer.headers:
        response[key] = value
    return response


def _chunks(answer: downloads.Answer):
    with get_store().open(answer.blob_key) as handle:
        handle.seek(answer.start)
        left = answer.length
        while left > 0 and (chunk := handle.read(min(downloads.CHUNK_SIZE, left))):
            left -= len(chunk)
            yield chunk
