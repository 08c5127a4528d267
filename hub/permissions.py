"""Token scopes: a read token may read everything its user may, and write nothing."""

from __future__ import annotations

from rest_framework import permissions

from hub.models import ApiToken

READ_ONLY_TOKEN_MESSAGE = (
    "This token is read-only: writing needs a token with the 'write' scope (create one under Settings > Access tokens)."
)


class TokenScopeAllows(permissions.BasePermission):
    """Refuse unsafe methods made with a read-scoped token (403, with a message)."""

    message = READ_ONLY_TOKEN_MESSAGE

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        token = request.auth
        if isinstance(token, ApiToken) and not token.can_write:
            return False
        return True


def request_can_write(request) -> bool:
    """Whether the request's credentials allow writes (sessions always do)."""
    token = getattr(request, "auth", None)
    return not (isinstance(token, ApiToken) and not token.can_write)


class IsAuthenticatedForWrites(permissions.BasePermission):
    """Reads are open; writes need a logged-in user or a token."""

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated)
