"""Account pages, API tokens, /healthz (/readyz, /livez) and the error pages."""

from __future__ import annotations

import sys
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from hub import outage
from hub.api import error_response, refused_body_error
from hub.forms import SignupForm, TokenForm
from hub.health import health_report
from hub.models import ApiToken
from hub.orgs import orgs_of
from hub.outage import database_unavailable
from hub.tokens import token_create, token_revoke


def livez(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "alive"})


def healthz(request: HttpRequest) -> JsonResponse:
    ok, report = health_report()
    if ok:
        return JsonResponse({"status": "ok", **report})
    down = [name for name, part in report.items() if not part["ok"]]
    return JsonResponse({"status": "down", "down": down, **report}, status=503)


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to TransferHub, {user.username}.")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data.get("expires_in_days")
        expires = timezone.now() + timedelta(days=days) if days else None
        _, new_token = token_create(request.user, form.cleaned_data["name"], form.cleaned_data["scope"], expires)
        form = TokenForm()
    listing = request.user.api_tokens.filter(revoked__isnull=True)
    return render(
        request, "hub/tokens.html", {"form": form, "tokens": listing, "new_token": new_token, "now": timezone.now()}
    )


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    token_revoke(token)
    messages.success(request, f"Token {token.name} revoked.")
    return redirect("tokens")


@extend_schema(
    responses=inline_serializer(
        "WhoAmI",
        {
            "type": serializers.CharField(),
            "name": serializers.CharField(),
            "fullname": serializers.CharField(),
            "email": serializers.CharField(allow_null=True),
            "orgs": serializers.ListField(),
            "auth": serializers.DictField(),
        },
    ),
    summary="Who the token belongs to (Hugging Face whoami-v2 shape)",
)
@api_view(["GET"])
@permission_classes([IsAuthenticated])
def whoami(request):
    user = request.user
    token = request.auth if isinstance(request.auth, ApiToken) else None
    auth = {"type": "session"}
    if token is not None:
        auth = {
            "type": "access_token",
            "accessToken": {"displayName": token.name, "role": token.scope, "createdAt": token.created.isoformat()},
        }
    return Response(
        {
            "type": "user",
            "id": str(user.pk),
            "name": user.username,
            "fullname": user.get_full_name() or user.username,
            "email": user.email or None,
            "emailVerified": False,
            "isPro": False,
            "orgs": [
                {
                    "type": "org",
                    "id": str(membership.org_id),
                    "name": membership.org.name,
                    "fullname": membership.org.fullname or membership.org.name,
                    "roleInOrg": membership.role,
                }
                for membership in orgs_of(user)
            ],
            "auth": auth,
        }
    )


# Swagger UI from drf-spectacular-sidecar's static files, its start-up script served by the same
# view (?script): no CDN and no inline script, so the hub's CSP applies unchanged. (Redoc was
# the first choice; its bundle always loads its logo from cdn.redoc.ly, which the CSP refuses.)
api_docs = SpectacularSwaggerSplitView.as_view(url_name="api_schema", template_name="hub/api_docs.html")


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def api_not_found(request: HttpRequest, repo_path: str | None = None) -> HttpResponse:
    """The last route for ``/api/...`` and ``.../resolve/...``: a JSON 404 in the HF client's terms, in every mode.

    A path under ``/api/models/`` or ``/api/datasets/`` (or a download URL) that
    no route took names a repo that cannot exist (``repo_exists("one-segment")``):
    ``RepoNotFound``, as the Hugging Face hub answers.
    """
    if repo_path is not None:
        return error_response(f"Repository {repo_path} not found.", 404, code="RepoNotFound")
    return error_response(f"No API endpoint at {request.path}.", 404)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _wants_json(request):
        return error_response("Not found.", 404)
    return render(request, "404.html", status=404)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if _wants_json(request):
        return error_response(str(exception) or "You do not have permission to do this.", 403)
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    if _wants_json(request):
        if isinstance(exception, SuspiciousOperation):  # e.g. a body over the limit: 413, said in JSON
            error = refused_body_error(exception)
            return error_response(error.message, error.status_code, error.extra)
        return error_response("Bad request.", 400)
    return render(request, "400.html", status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its ``except`` block: the exception is the one being handled.
    if database_unavailable(sys.exc_info()[1]):
        return database_unavailable_response(request)
    if _wants_json(request):
        return error_response("Internal error; it has been logged.", 500)
    return render(request, "500.html", status=500)


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        response = error_response(outage.MESSAGE, 503, code="DatabaseUnavailable")
    else:
        page = render_to_string("503.html", {"message": outage.MESSAGE})  # no request: nothing reads the database
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(outage.RETRY_AFTER_SECONDS)
    return response
