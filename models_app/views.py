"""Website pages for models."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from models_app.repos import visible_repos


def home(request: HttpRequest) -> HttpResponse:
    repos = visible_repos(request.user)
    return render(
        request,
        "models_app/home.html",
        {"newest": repos.order_by("-created")[:8], "popular": repos.order_by("-downloads")[:8]},
    )


def user_page(request: HttpRequest, username: str) -> HttpResponse:
    owner = get_object_or_404(get_user_model(), username__iexact=username)
    repos = visible_repos(request.user).filter(owner=owner).order_by("-updated")
    return render(request, "models_app/user.html", {"owner": owner, "repos": repos})
