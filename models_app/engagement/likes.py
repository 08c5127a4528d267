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


def liked_by(username: str, visible) -> list[dict]:
    """``list_liked_repos``: the repos ``username`` liked among ``visible`` (the viewer's), newest like first."""
    rows = (
        Like.objects.filter(user__username__iexact=username, repo__in=visible)
        .order_by("-created")
        .values("created", "repo__owner__username", "repo__name", "repo__repo_type")
    )
    return [
        {
            "createdAt": row["created"],
            "repo": {"name": f"{row['repo__owner__username']}/{row['repo__name']}", "type": row["repo__repo_type"]},
        }
        for row in rows
    ]


def likers(repo: ModelRepo) -> list[dict]:
    """``list_repo_likers``: who liked ``repo`` (the caller could see it)."""
    rows = Like.objects.filter(repo=repo).order_by("-created").values("user__username", "user__first_name")
    return [
        {"user": row["user__username"], "fullname": row["user__first_name"] or row["user__username"], "avatarUrl": ""}
        for row in rows
    ]
