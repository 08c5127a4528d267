"""Storage quotas: the bytes a repo and its owner hold, and the check a commit passes under a lock.

``Ingest`` (publish/uploads.py) checks the quotas while the bytes arrive;
``commit_quota_check`` checks them again inside ``revision_create``'s
transaction. Both word a refusal with ``quota_message``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Subquery, Sum

from hub.api import ApiError
from models_app.models import Blob, ModelRepo, RepoFile
from models_app.repos.gitattributes import GITATTRIBUTES_SHA256


class QuotaExceeded(ApiError):
    """A commit that would take a repo or its owner past a storage quota (413); nothing was committed."""


def human_size(size: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"


def repo_usage(repo: ModelRepo) -> int:
    """Bytes of the distinct blobs any revision of ``repo`` references."""
    blobs = RepoFile.objects.filter(revision__repo=repo).values("blob_id")
    counted = Blob.objects.filter(sha256__in=Subquery(blobs)).exclude(sha256=GITATTRIBUTES_SHA256)
    return counted.aggregate(total=Sum("size"))["total"] or 0


def user_usage(user) -> int:
    blobs = RepoFile.objects.filter(revision__repo__owner=user).values("blob_id")
    counted = Blob.objects.filter(sha256__in=Subquery(blobs)).exclude(sha256=GITATTRIBUTES_SHA256)
    return counted.aggregate(total=Sum("size"))["total"] or 0


def account_quota(account) -> int:
    """Bytes ``account`` (a user or an org's account) may hold: its own quota, else the site's default for its kind."""
    if account.storage_quota is not None:
        return account.storage_quota
    return settings.HUB_ORG_QUOTA if account.is_organization else settings.HUB_USER_QUOTA


def owner_remaining(account) -> int:
    return account_quota(account) - user_usage(account)


def quota_summary(account) -> dict:
    """``{"used", "quota", "percent", "is_org"}`` for the settings page."""
    used, quota = user_usage(account), account_quota(account)
    return {
        "used": used,
        "quota": quota,
        "percent": min(100, round(100 * used / quota)) if quota else 100,
        "is_org": account.is_organization,
    }


def whose_quota(account) -> str:
    """How a refusal names the quota: "your", or "the organization acme's"."""
    return f"the organization {account.username}'s" if account.is_organization else "your"


def quota_message(what: str, whose: str, remaining: int, added: int | None = None, then: str = "") -> str:
    """Why ``what`` ("x.bin: this upload", "This commit") is refused: it goes past ``whose`` quota."""
    new = "" if added is None else f", {human_size(added)} new"
    return f"{what} would exceed {whose} storage quota ({human_size(max(remaining, 0))} left{new}){then}."


def commit_quota_check(repo: ModelRepo, blobs: Iterable[Blob]) -> None:
    """Refuse (413) a commit whose new blobs would take the repo or its owner past a quota.

    ``Ingest`` checks the quotas while the bytes arrive, against the usage when
    the upload began, so two uploads running side by side could each pass and
    together overshoot. This runs again inside the commit's transaction, with
    the owner's row locked (PostgreSQL; SQLite's write transactions take turns
    anyway), so commits that add bytes to one owner's repos are counted one
    after the other. Only blobs new to the repo (or to the owner) count. A
    refused commit's blobs stay unreferenced until the storage sweep removes them.
    """
    sizes = {blob.sha256: blob.size for blob in blobs}
    if not sizes:
        return
    list(get_user_model().objects.select_for_update().filter(pk=repo.owner_id).values_list("pk", flat=True))
    # the usage now, under the lock
    checks = (
        (RepoFile.objects.filter(revision__repo=repo), settings.HUB_REPO_QUOTA - repo_usage(repo), "the repository's"),
        (
            RepoFile.objects.filter(revision__repo__owner_id=repo.owner_id),
            owner_remaining(repo.owner),
            whose_quota(repo.owner),
        ),
    )
    for files, remaining, whose in checks:
        held = set(files.filter(blob_id__in=list(sizes)).values_list("blob_id", flat=True))
        added = sum(size for sha, size in sizes.items() if sha not in held)
        if added and added > remaining:
            message = quota_message("This commit", whose, remaining, added, "; nothing was committed")
            raise QuotaExceeded(message, status_code=413)
