"""The front door's first check: a URL with a control character in it is refused (400, JSON).

No repo name, revision, file path or query value may hold one (models_app/repos/paths.py
refuses them in file names), so such a URL names nothing. Refusing it here, before
the download and upload apps and Django, keeps it out of every lookup: SQLite
compares strings only up to a NUL (``/api/models/alice/m%00x`` found ``alice/m``)
and PostgreSQL refuses NUL in a query (a 500).
"""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from hub.headers import header_safe

MESSAGE = "Control characters (such as NUL, tab or newline) are not allowed in URLs."


def has_control_character(path: str, query_string: bytes) -> bool:
    """True when the decoded path or query string holds a C0 control character or DEL."""
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        return True
    query = unquote_to_bytes(query_string.replace(b"+", b" "))
    return any(byte < 32 or byte == 127 for byte in query)


class UrlGuard:
    """ASGI middleware: answers such HTTP requests itself, passes every other scope on."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and has_control_character(scope.get("path", ""), scope.get("query_string", b"")):
            body = json.dumps({"error": MESSAGE, "detail": None}).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-error-message", header_safe(MESSAGE).encode()),
                (b"connection", b"close"),  # any request body is left unread
            ]
            await send({"type": "http.response.start", "status": 400, "headers": headers})
            await send({"type": "http.response.body", "body": body if scope["method"] != "HEAD" else b""})
            return None
        return await self.app(scope, receive, send)
