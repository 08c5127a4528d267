"""Short-lived CAS access tokens, scoped to one user, repo and revision.

The client gets one from ``xet-write-token`` (with its hub token) and sends it
to the CAS routes as ``Authorization: Bearer``. It is a signed payload, not a
database row: checking it costs no query, and it dies at ``exp`` (the client
asks for a fresh one before then).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

from hub.access import bearer_token

_SALT = "transferhub.xet.cas"
# Uploads for a pull request by someone who may not write to the repo: re-checked as "may still see it".
PROPOSE = "propose"


class CasTokenError(Exception):
    """Missing, forged or expired CAS token (the message says which)."""


@dataclass(frozen=True)
class CasGrant:
    user_id: int
    repo_id: int
    revision: str
    scope: str  # "read", "write", or PROPOSE
    exp: int

    @property
    def can_write(self) -> bool:
        return self.scope in ("write", PROPOSE)


def cas_token_issue(user_id: int, repo_id: int, revision: str, scope: str) -> tuple[str, int]:
    """A signed token and its expiry (unix seconds)."""
    exp = int(time.time()) + settings.XET_TOKEN_TTL
    payload = {"u": user_id, "r": repo_id, "v": revision, "s": scope, "e": exp}
    return signing.dumps(payload, salt=_SALT, compress=True), exp


def cas_token_check(authorization: str | None) -> CasGrant:
    raw = bearer_token(authorization)
    if raw is None:
        raise CasTokenError("A Xet access token is required (Authorization: Bearer).")
    try:
        payload = signing.loads(raw, salt=_SALT)
        grant = CasGrant(payload["u"], payload["r"], payload["v"], payload["s"], int(payload["e"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise CasTokenError("Invalid Xet access token.") from None
    if grant.exp <= time.time():
        raise CasTokenError("This Xet access token has expired; ask the hub for a new one.")
    return grant
