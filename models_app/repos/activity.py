"""Who wrote to an account's repos, and with which token: what an org admin sees of their members' writes."""

from __future__ import annotations

from models_app.models import Revision


def account_writes(account, limit: int = 50) -> list[dict]:
    """The newest revisions of ``account``'s repos: repo, sha, author, and the token (name, prefix, scope) used."""
    revisions = (
        Revision.objects.filter(repo__owner=account)
        .select_related("repo__owner", "author", "token")
        .order_by("-created", "-id")[:limit]
    )
    return [
        {
            "repo": revision.repo.repo_id,
            "type": revision.repo.repo_type,
            "sha": revision.sha,
            "message": revision.message,
            "author": revision.author.username if revision.author else None,
            "token": (
                {"name": revision.token.name, "prefix": revision.token.prefix, "scope": revision.token.scope}
                if revision.token
                else None
            ),
            "created": revision.created,
        }
        for revision in revisions
    ]
