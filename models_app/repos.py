"""Who may see and change a repo. A repo someone may not see is a 404, never a 403."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from models_app.models import ModelRepo


def visible_repos(user) -> QuerySet[ModelRepo]:
    """Repos ``user`` may see: public ones, their own, and all of them for staff."""
    repos = ModelRepo.objects.select_related("owner")
    if user is not None and user.is_authenticated:
        if user.is_staff:
            return repos
        return repos.filter(Q(private=False) | Q(owner=user))
    return repos.filter(private=False)


def get_visible_repo(user, owner: str, name: str) -> ModelRepo:
    """The repo ``owner/name`` (case-insensitive) if ``user`` may see it, else Http404."""
    repo = visible_repos(user).filter(owner__username__iexact=owner, name__iexact=name).first()
    if repo is None:
        raise Http404(f"Repository {owner}/{name} not found.")
    return repo


def can_write(user, repo: ModelRepo) -> bool:
    return bool(user is not None and user.is_authenticated and (user.pk == repo.owner_id or user.is_staff))
