"""Token scopes: a read token may read everything its user may, and write nothing."""

from __future__ import annotations

from rest_framework import permissions

from hub.access import READ_ONLY_TOKEN_MESSAGE, credentials_can_write


class TokenScopeAllows(permissions.BasePermission):
    """Refuse unsafe methods made with a read-scoped token (403, with a message)."""

    message = READ_ONLY_TOKEN_MESSAGE

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return credentials_can_write(request.auth)


def request_can_write(request) -> bool:
    """Whether the request's credentials allow writes (sessions always do)."""
    return credentials_can_write(getattr(request, "auth", None))


class IsAuthenticatedForWrites(permissions.BasePermission):
    """Reads are open; writes need a logged-in user or a token."""

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated)
