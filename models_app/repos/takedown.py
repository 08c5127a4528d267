"""Takedowns: the people who run the site hide a repo (or all of an org's) with a public reason, and restore it.

A hidden repo leaves every listing, answers 451 with its reason on every
entrance (``rules.find_visible_repo`` raises ``RepoTakenDown``), its files stop
downloading, and open sockets on its room close. Staff still see it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from hub.api import ApiError
from hub.audit import audit
from models_app.models import ModelRepo
from models_app.repos.events import announce_access_change


def _label(repo: ModelRepo) -> str:
    return f"{repo.repo_type} {repo.repo_id}"


def repo_hide(actor, repo: ModelRepo, reason: str) -> ModelRepo:
    """Take ``repo`` down; ``reason`` is shown to everyone who asks for it."""
    reason = (reason or "").strip()
    if not reason:
        raise ApiError("A takedown needs a public reason.", status_code=400)
    with transaction.atomic():
        repo.hidden_at, repo.hidden_reason = timezone.now(), reason[:500]
        repo.save(update_fields=["hidden_at", "hidden_reason"])
        announce_access_change(repo.pk)  # sockets on its room re-check and close
        audit(actor, "repo.hide", _label(repo), reason)
    return repo


def repo_restore(actor, repo: ModelRepo, reason: str = "") -> ModelRepo:
    with transaction.atomic():
        repo.hidden_at, repo.hidden_reason = None, ""
        repo.save(update_fields=["hidden_at", "hidden_reason"])
        audit(actor, "repo.restore", _label(repo), reason)
    return repo


def org_hide(actor, account, reason: str) -> int:
    """Take down every repo of an org (or any account); returns how many were hidden."""
    repos = list(ModelRepo.objects.select_related("owner").filter(owner=account, hidden_at__isnull=True))
    with transaction.atomic():
        for repo in repos:
            repo_hide(actor, repo, reason)
        audit(actor, "org.hide", f"org {account.username}", reason, detail={"repos": [r.repo_id for r in repos]})
    return len(repos)


def org_restore(actor, account, reason: str = "") -> int:
    repos = list(ModelRepo.objects.select_related("owner").filter(owner=account, hidden_at__isnull=False))
    with transaction.atomic():
        for repo in repos:
            repo_restore(actor, repo, reason)
        audit(actor, "org.restore", f"org {account.username}", reason, detail={"repos": [r.repo_id for r in repos]})
    return len(repos)
