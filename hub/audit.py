"""The audit log: every action of the people who run the site, and of org admins, leaves one row."""

from __future__ import annotations

from hub.models import AuditEntry


def audit(actor, action: str, target: str, reason: str = "", *, detail: dict | None = None) -> AuditEntry:
    """Record that ``actor`` did ``action`` to ``target`` (call inside the action's transaction)."""
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=user, action=action, target=target[:255], reason=reason or "", detail=detail or {}
    )
