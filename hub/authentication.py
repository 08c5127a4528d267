"""DRF authentication by ``Authorization: Bearer <token>``, as the HF clients send it."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from hub.tokens import TokenError, token_authenticate


def bearer_token(header: str | None) -> str | None:
    """The raw token in an Authorization header, or None when there is no Bearer token."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


class BearerTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        raw = bearer_token(request.META.get("HTTP_AUTHORIZATION"))
        if raw is None:
            return None
        try:
            token = token_authenticate(raw)
        except TokenError as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        return token.user, token

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) when credentials are missing or wrong.
        return 'Bearer realm="transferhub"'
