"""What a request's credentials allow, for every entrance: Django views, DRF and websockets.

A session acts with its user's full rights. A token acts with its user's
rights narrowed to its scope: a read token reads what its user may read and
writes nothing. Whether the user may touch a given repo or room is the
capability's own rule (``models_app.repos``, ``discussions.rooms``); this
module answers only for the credentials, and it answers the same way on HTTP
and on a websocket, at connect and again on every frame.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from hub.models import ApiToken

READ_ONLY_TOKEN_MESSAGE = (
    "This token is read-only: writing needs a token with the 'write' scope (create one under Settings > Access tokens)."
)


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
