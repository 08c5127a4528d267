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


def repo_create(owner, name: str, *, private: bool = False) -> ModelRepo:
    """Create ``owner/name``; 400 on a bad name, 409 when the owner has it already (any case)."""
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    from hub.api import ApiError
    from hub.names import validate_username

    try:
        validate_username(name) if name.lower() not in {"new", "settings"} else None
    except ValidationError:
        raise ApiError(
            f"'{name}' is not a valid model name: use 1-96 letters, digits, '-', '_' or '.', "
            "not starting with '.' or '-'.",
            status_code=400,
        ) from None
    if name.lower() in {"new", "settings"}:
        raise ApiError(f"'{name}' is reserved.", status_code=400)
    try:
        with transaction.atomic():
            return ModelRepo.objects.create(owner=owner, name=name, private=private)
    except IntegrityError:
        raise ApiError(f"You already have a model named {owner.username}/{name}.", status_code=409) from None
