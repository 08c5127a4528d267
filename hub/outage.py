"""A database outage is answered 503 with a sentence (JSON or a page), never a 500 or a traceback.

Every entrance that turns an unexpected exception into an answer asks
``database_unavailable`` first: Django's 500 handler (``hub/views.py``), the
raw-bytes routes (``models_app/streaming.py``, downloads) and the outermost ASGI
layer (``hub/observe.py``). Nothing else is needed to recover: Django drops a
broken connection at the end of the request (``close_old_connections``) and the
next request connects again.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

MESSAGE = "The hub's database is not answering right now. Nothing was changed; please try again in a few seconds."
RETRY_AFTER_SECONDS = 10


def database_unavailable(exc: BaseException | None) -> bool:
    """True for the errors of a database that cannot be reached (refused, restarting, connection lost)."""
    return isinstance(exc, OperationalError | InterfaceError)
