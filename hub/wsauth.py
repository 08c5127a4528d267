"""Websocket security: the Origin check, and who the socket is (``hub.access.identify``).

Browsers always send ``Origin`` on a websocket handshake, so a cross-site page
is refused by the host check. A handshake with no ``Origin`` at all comes from
a program (the Python ``websockets`` client, curl), not from a page another
site controls, so it is let through; such clients authenticate with a token.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings
from django.http import parse_cookie

from hub.access import TokenError, identify


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


def _identify(authorization: str | None, session_key: str | None):
    return identify(authorization=authorization, session=session_key)


class IdentityMiddleware:
    """Sets ``scope["user"]`` and ``scope["auth_token"]`` by ``hub.access.identify``.

    A Bearer token wins over the session cookie; a bad token refuses the
    handshake (403) rather than falling back to anonymous.
    """

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", []))
        authorization = headers.get(b"authorization", b"").decode("latin1") or None
        cookies = parse_cookie(headers.get(b"cookie", b"").decode("latin1"))
        try:
            identity = await database_sync_to_async(_identify)(authorization, cookies.get(settings.SESSION_COOKIE_NAME))
        except TokenError:
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(dict(scope, user=identity.user, auth_token=identity.token), receive, send)
