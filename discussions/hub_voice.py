"""The hub speaks in a model's room: new revisions and validation verdicts, as system messages.

Both signals are sent after their transaction commits; each post is its own
transaction and broadcasts after that one commits. The validation run comes
from an app written alongside this one, so its fields are read defensively.
"""

from __future__ import annotations

import logging

from discussions.rooms import system_post

log = logging.getLogger(__name__)


def revision_text(revision, created_by=None) -> str:
    who = f" by {created_by.username}" if created_by is not None else ""
    message = (getattr(revision, "message", "") or "").strip().splitlines()
    summary = f": {message[0][:200]}" if message else ""
    return f"New revision `{revision.sha[:8]}`{who}{summary}"


def verdict_text(run) -> str:
    from models_app.validation.report import verdict_summary

    repo = run.revision.repo
    return f"{verdict_summary(run)} [Details](/{repo.owner.username}/{repo.name}/validation)"


def on_revision_created(sender, revision, created_by=None, **kwargs) -> None:
    system_post(revision.repo, revision_text(revision, created_by))


def on_validation_finished(sender, run, **kwargs) -> None:
    revision = getattr(run, "revision", None)
    repo = getattr(revision, "repo", None)
    if repo is None:
        log.warning("validation_finished without a revision's repo: %r", run)
        return
    system_post(repo, verdict_text(run))
