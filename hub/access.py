"""The front door: who a request is, and what its credentials allow, for every entrance.

Django's views (``IdentityMiddleware``), DRF (``hub.authentication``), the
raw-bytes app and the websockets (``hub.wsauth``) all ask ``identify``: a
Bearer token first, else the session cookie, else anonymous. Pages are
session-only (a token on a page request counts for nothing there); the API,
the bytes routes and the sockets take both.

A session acts with its user's full rights. A token acts with its user's
rights narrowed to its scope: a read token reads what its user may read and
writes nothing. Whether the user may touch a given repo or room is the
capability's own rule (``models_app.repos.rules``, ``discussions.rooms``); this
module answers only for the credentials, and it answers the same way on HTTP
and on a websocket, at connect and again on every frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from types import SimpleNamespace

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.utils.functional import SimpleLazyObject

from hub.models import ApiToken
from hub.tokens import TokenError, token_authenticate

__all__ = ["Identity", "TokenError", "identify", "bearer_token", "IdentityMiddleware"]

READ_ONLY_TOKEN_MESSAGE = (
    "This token is read-only: writing needs a token with the 'write' scope (create one under Settings > Access tokens)."
)


@dataclass(frozen=True)
class Identity:
    user: object  # a User, or AnonymousUser
    token: ApiToken | None = None  # None: a session, or nobody

    @property
    def can_write(self) -> bool:
        return credentials_can_write(self.token)


def bearer_token(header: str | None) -> str | None:
    """The raw token in an Authorization header, or None when there is no Bearer token."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def identify(*, authorization: str | None = None, session=None) -> Identity:
    """Who is asking: a Bearer token, else the session (a SessionBase or a session key), else anonymous.

    A token that is unknown, revoked or expired raises TokenError (the caller
    answers 401): a client that sent a credential is told it failed rather
    than treated as anonymous.
    """
    raw = bearer_token(authorization)
    if raw is not None:
        token = token_authenticate(raw)
        # Like Django's ``user.backend``: the user object remembers the token it acts through, so a
        # write that records its author records the token too (``Revision.token``, seen by org admins).
        token.user.acting_token = token
        return Identity(token.user, token)
    if isinstance(session, str):
        session = import_module(settings.SESSION_ENGINE).SessionStore(session) if session else None
    if session is not None:
        # Django's own rule for a session (the user's session hash is checked too).
        user = auth.get_user(SimpleNamespace(session=session))
        if user.is_authenticated:
            return Identity(user)
    return Identity(AnonymousUser())


class IdentityMiddleware(AuthenticationMiddleware):
    """``request.user`` for Django's views, from ``identify`` (pages use the session only)."""

    def process_request(self, request) -> None:
        super().process_request(request)  # checks that sessions are installed; sets request.auser
        request.user = SimpleLazyObject(lambda: _session_user(request))


def _session_user(request):
    if not hasattr(request, "_cached_user"):  # the cache Django's login() and logout() maintain
        request._cached_user = identify(session=request.session).user
    return request._cached_user


def credentials_can_write(token) -> bool:
    """Whether a request made with ``token`` (None: a session or no credentials) may write."""
    return not (isinstance(token, ApiToken) and not token.can_write)


def credentials_still_valid(user, token) -> bool:
    """Re-read from the database: the user is still active and the token neither revoked nor expired.

    Long-lived connections (websockets) call this for every frame, so a token
    revoked or an account disabled while the socket is open stops working at once.
    """
    from hub.tokens import token_is_active

    if isinstance(token, ApiToken):
        fresh = ApiToken.objects.select_related("user").filter(pk=token.pk).first()
        return fresh is not None and token_is_active(fresh)
    if user is not None and user.is_authenticated:
        return get_user_model().objects.filter(pk=user.pk, is_active=True).exists()
    return True
