"""The one rule for putting text a user may have chosen into a response header.

Error messages echo names from the URL or the body (``Repository a/b not
found``). A header value with ``\\r`` or ``\\n`` makes Django raise (a 500), and
one with any other control character makes the ASGI server refuse the whole
response and drop the connection. Header values are bytes on the wire and
clients decode them as ASCII or Latin-1, so anything outside printable ASCII is
replaced, and a value is capped: the full text stays in the JSON body.
"""

from __future__ import annotations

# X-Error-Message is a summary; the body carries the whole message.
MAX_HEADER_VALUE = 500
REPLACEMENT = "?"


def header_safe(text: str, limit: int | None = MAX_HEADER_VALUE) -> str:
    """``text`` as printable ASCII (other characters become ``?``), at most ``limit`` characters."""
    text = str(text) if limit is None else str(text)[:limit]
    return "".join(ch if " " <= ch <= "~" else REPLACEMENT for ch in text)
