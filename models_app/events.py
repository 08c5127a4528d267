"""Hub events other parts subscribe to. Each is sent only after its transaction commits.

Subscribers (the validation queue, the discussion rooms) connect receivers in
their AppConfig.ready(); a receiver that fails is logged and does not stop the
others (``send_robust``).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

# kwargs: revision (models_app.models.Revision), created_by (User or None)
revision_created = Signal()


def announce_revision(revision, created_by=None) -> None:
    """Tell the rest of the hub about a new revision once the current transaction commits."""

    def send() -> None:
        for receiver, result in revision_created.send_robust(
            sender=type(revision), revision=revision, created_by=created_by
        ):
            if isinstance(result, Exception):
                log.error("revision_created receiver %r failed", receiver, exc_info=result)

    transaction.on_commit(send)
