"""DRF authentication by ``Authorization: Bearer <token>``, as the HF clients send it (``hub.access.identify``)."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from hub.access import TokenError, bearer_token, identify


class BearerTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION")
        if bearer_token(header) is None:
            return None  # no token: DRF goes on to the session
        try:
            identity = identify(authorization=header)
        except TokenError as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        return identity.user, identity.token

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) when credentials are missing or wrong.
        return 'Bearer realm="transferhub"'
