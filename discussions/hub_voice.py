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
    revision = getattr(run, "revision", None)
    sha = getattr(revision, "sha", "") or ""
    status = str(getattr(run, "status", "") or "finished")
    task = getattr(run, "task", "") or ""
    parts = [f"Validation of `{sha[:8]}`" if sha else "Validation", f"**{status}**"]
    if task:
        parts.append(f"on {task}")
    text = " ".join(parts)
    metrics = getattr(run, "metrics", None)
    if isinstance(metrics, dict) and metrics:
        shown = ", ".join(
            f"{k} {v:.4g}" if isinstance(v, int | float) else f"{k} {v}" for k, v in list(metrics.items())[:6]
        )
        text += f" ({shown})"
    reason = getattr(run, "reason", "") or ""
    if reason:
        text += f": {str(reason)[:500]}"
    return text


def on_revision_created(sender, revision, created_by=None, **kwargs) -> None:
    system_post(revision.repo, revision_text(revision, created_by))


def on_validation_finished(sender, run, **kwargs) -> None:
    revision = getattr(run, "revision", None)
    repo = getattr(revision, "repo", None)
    if repo is None:
        log.warning("validation_finished without a revision's repo: %r", run)
        return
    system_post(repo, verdict_text(run))
