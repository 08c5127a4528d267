"""Likes: one per user and repo; ``ModelRepo.likes`` is kept equal to the number of rows."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from models_app.engagement.models import Like
from models_app.models import ModelRepo


def like_set(user, repo: ModelRepo, liked: bool) -> int:
    """Like (or unlike) ``repo`` as ``user``; idempotent. Returns the new like count."""
    with transaction.atomic():
        if liked:
            try:
                with transaction.atomic():
                    Like.objects.create(user=user, repo=repo)
                changed = 1
            except IntegrityError:  # already liked: a double click, or two tabs
                changed = 0
        else:
            deleted, _ = Like.objects.filter(user=user, repo=repo).delete()
            changed = -deleted
        if changed:
            ModelRepo.objects.filter(pk=repo.pk).update(likes=F("likes") + changed)
    return ModelRepo.objects.values_list("likes", flat=True).get(pk=repo.pk)


def has_liked(user, repo: ModelRepo) -> bool:
    return bool(user and user.is_authenticated and Like.objects.filter(user=user, repo=repo).exists())
