"""Websocket security: the Origin check and ``Authorization: Bearer`` tokens for API clients.

Browsers always send ``Origin`` on a websocket handshake, so a cross-site page
is refused by the host check. A handshake with no ``Origin`` at all comes from
a program (the Python ``websockets`` client, curl), not from a page another
site controls, so it is let through; such clients authenticate with a token.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings

from hub.authentication import bearer_token
from hub.tokens import TokenError, token_authenticate


class BrowserOriginValidator(OriginValidator):
    def valid_origin(self, parsed_origin) -> bool:
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)


def browser_origin_validator(application):
    """Like Channels' AllowedHostsOriginValidator, but open to clients that send no Origin."""
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = ["localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(application, allowed)


def _token_user(raw: str):
    token = token_authenticate(raw)
    return token.user, token


class TokenAuthMiddleware:
    """Sets ``scope["user"]`` from a Bearer token (overriding the session); a bad token is refused."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        header = dict(scope.get("headers", [])).get(b"authorization")
        raw = bearer_token(header.decode("latin1")) if header else None
        if raw is not None:
            try:
                user, token = await database_sync_to_async(_token_user)(raw)
            except TokenError:
                return await WebsocketDenier()(scope, receive, send)
            scope = dict(scope, user=user, auth_token=token)
        return await self.application(scope, receive, send)
