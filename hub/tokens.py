"""API tokens: create, look up and revoke.

A token reads ``thub_<40 random characters>``. The database keeps its SHA-256
(an index lookup, no per-request password hashing: the secret has 238 bits of
entropy, so a fast hash is safe) and a short readable prefix.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from hub.models import ApiToken, User

TOKEN_PREFIX = "thub_"
# last_used is written at most this often, to keep the hot path read-only.
LAST_USED_RESOLUTION = timedelta(minutes=5)


class TokenError(Exception):
    """The presented token is unknown, revoked or expired; the message says which."""


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(
    user: User, name: str, scope: str = ApiToken.Scope.READ, expires: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw value, which is shown once and never stored."""
    if scope not in ApiToken.Scope.values:
        raise ValueError(f"scope must be one of {', '.join(ApiToken.Scope.values)}")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(30)
    token = ApiToken.objects.create(
        user=user,
        name=name[:64] or "token",
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        hashed_secret=_digest(raw),
        scope=scope,
        expires=expires,
    )
    return token, raw


def token_authenticate(raw: str) -> ApiToken:
    """Return the active token for ``raw`` or raise TokenError with a message for the caller."""
    token = ApiToken.objects.select_related("user").filter(hashed_secret=_digest(raw.strip())).first()
    if token is None:
        raise TokenError("Invalid token.")
    problem = token_problem(token)
    if problem:
        raise TokenError(problem)
    now = timezone.now()
    if token.last_used is None or now - token.last_used > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
    return token


def token_problem(token: ApiToken) -> str | None:
    """Why ``token`` may not be used now (revoked, expired, account disabled), or None."""
    if token.revoked is not None:
        return "This token has been revoked."
    if token.expires is not None and token.expires <= timezone.now():
        return "This token has expired."
    if not token.user.is_active:
        return "This account is disabled."
    return None


def token_is_active(token: ApiToken) -> bool:
    return token_problem(token) is None


# kwargs: token (ApiToken). Sent after the revocation commits; open connections that used it close.
token_revoked = Signal()
# kwargs: user (disabled by the operators). Sent after it commits: open connections of the account close.
account_disabled = Signal()


def token_revoke(token: ApiToken) -> None:
    if token.revoked is None:
        token.revoked = timezone.now()
        token.save(update_fields=["revoked"])
        transaction.on_commit(lambda: token_revoked.send_robust(sender=ApiToken, token=token))
