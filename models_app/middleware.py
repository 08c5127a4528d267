"""Rename-safe URLs: a 404 under a renamed repo's old ``owner/name`` redirects to its current name."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from hub.api import error_response
from models_app.repos.rules import DATASET, MODEL, RepoTakenDown, redirect_target, visible_repos

_REPO_PATH = re.compile(
    r"^/(?P<prefix>api/models/|(?P<dataset>api/datasets/|datasets/))?(?P<owner>[^/]+)/(?P<name>[^/]+)(?P<rest>/.*)?$"
)


class HttpResponseTemporaryRedirect(HttpResponseRedirect):
    status_code = 307  # keeps the method and body (API writes)


class RepoRedirectMiddleware:
    """Only 404s are looked at, so a repo that exists under a name always wins over a redirect.

    Temporary redirects (302/307): the old name may be taken by a new repo later.
    A private repo's new name is shown only to those who may see it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 404:
            return response
        match = _REPO_PATH.match(request.path_info)
        if match is None:
            return response
        repo_type = DATASET if match["dataset"] else MODEL
        repo = redirect_target(match["owner"], match["name"], repo_type)
        if repo is None or not visible_repos(getattr(request, "user", None)).filter(pk=repo.pk).exists():
            return response
        location = f"/{match['prefix'] or ''}{repo.owner.username}/{repo.name}{match['rest'] or ''}"
        if request.META.get("QUERY_STRING"):
            location += "?" + request.META["QUERY_STRING"]
        cls = HttpResponseRedirect if request.method in ("GET", "HEAD") else HttpResponseTemporaryRedirect
        return cls(location)


class TakedownMiddleware:
    """A repo taken down answers 451: a page that says why on the website, the API's JSON error elsewhere.

    ``find_visible_repo`` raises ``RepoTakenDown``; DRF views answer it
    themselves, and this catches it for every other Django view.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, RepoTakenDown):
            return None
        if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
            return error_response(exception.message, 451, exception.extra, exception.error_code)
        repo = exception.repo
        return render(request, "models_app/takedown.html", {"taken_down": repo}, status=451)
