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


# kwargs: repo, number (int: refs/pr/<number>), base (Revision: the target's tip when it opened, the merge
# base), head (Revision: the PR's tip), target (branch name), author (User), title, description, draft (bool).
# Sent after commit when ``create_commit(create_pr=True)`` opened a pull request; the discussions app
# makes it a thread of the model's room.
pull_request_opened = Signal()

# kwargs: repo, number, revision (the PR's new tip), author. A later commit to refs/pr/<number>.
pull_request_committed = Signal()


def _send_after_commit(signal: Signal, name: str, **kwargs) -> None:
    def send() -> None:
        for receiver, result in signal.send_robust(sender=None, **kwargs):
            if isinstance(result, Exception):
                log.error("%s receiver %r failed", name, receiver, exc_info=result)

    transaction.on_commit(send)


def announce_pull_request(**kwargs) -> None:
    """Once the current transaction commits: a pull request was opened (``pull_request_opened``'s kwargs)."""
    _send_after_commit(pull_request_opened, "pull_request_opened", **kwargs)


def announce_pull_request_commit(**kwargs) -> None:
    """Once the current transaction commits: refs/pr/<number> moved to a new revision."""
    _send_after_commit(pull_request_committed, "pull_request_committed", **kwargs)


# kwargs: run (models_app.validation.models.ValidationRun); sent after the verdict commits.
validation_finished = Signal()


def live_group(repo_pk: int) -> str:
    """The channel-layer group of everyone watching one model (its page and its room)."""
    return f"repo-{repo_pk}"


def publish_live(repo_pk: int, event: str, data: dict) -> None:
    """Push ``{"type": "hub.event", "event": ..., "data": ...}`` to everyone watching a model.

    Callable from sync code in any process (web or worker); consumers relay it to
    their browser. Delivery is best effort: what matters is also saved in the DB.
    """
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(live_group(repo_pk), {"type": "hub.event", "event": event, "data": data})
    except Exception:  # noqa: BLE001 - a down layer must not fail the caller's job
        log.warning("could not publish %s for repo %s", event, repo_pk, exc_info=True)


ACCESS_EVENT = "access"


def announce_access_change(repo_pk: int) -> None:
    """Once the current transaction commits: who may see or write ``repo_pk`` may have changed.

    Every web process re-checks its open sockets on the model (discussions/relay.py):
    a socket whose user lost access is closed, the others learn their new rights.
    """
    transaction.on_commit(lambda: publish_live(repo_pk, ACCESS_EVENT, {}))


def announce_org_access_change(sender=None, org_account_id: int | None = None, **kwargs) -> None:
    """An org's membership changed (``hub.orgs.membership_changed``): every one of its repos re-checks its sockets."""
    from models_app.models import ModelRepo

    for repo_pk in ModelRepo.objects.filter(owner_id=org_account_id).values_list("pk", flat=True):
        publish_live(repo_pk, ACCESS_EVENT, {})
