"""Not-found answers in the shape the Hugging Face client turns into its own exceptions.

The client reads ``X-Error-Code`` (``RepoNotFound``, ``RevisionNotFound``,
``EntryNotFound``) and shows ``X-Error-Message``. A repo the caller may not see
answers exactly like a repo that does not exist: 401 to an anonymous caller
and 404 to a signed-in one, as the HF hub does, so nobody learns that a
private repo exists.
"""

from __future__ import annotations

import orjson
from django.http import HttpResponse

from hub.headers import header_safe


class HubNotFound(Exception):
    def __init__(self, status: int, code: str, message: str, *, commit: str | None = None, location: str = ""):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.commit = commit
        self.location = location

    def headers(self) -> list[tuple[str, str]]:
        if self.location:
            return [("Location", self.location)]
        headers = [("X-Error-Code", header_safe(self.code)), ("X-Error-Message", header_safe(self.message))]
        if self.commit:
            headers.append(("X-Repo-Commit", self.commit))
        return headers

    def body(self) -> bytes:
        return orjson.dumps({"error": self.message, "detail": None})

    def response(self) -> HttpResponse:
        response = HttpResponse(self.body(), status=self.status, content_type="application/json")
        for key, value in self.headers():
            response[key] = value
        return response


def missing_repo(user, owner: str, name: str, path: str, repo_type: str = "model") -> HubNotFound:
    """Not found, or a relative 307 to the new name of a renamed repo the caller may see.

    The HF client follows relative redirects (renamed repos) on its HEAD and GET.
    """
    from models_app.repos.rules import redirect_target, visible_repos

    repo = redirect_target(owner, name, repo_type)
    if repo is not None and visible_repos(user).filter(pk=repo.pk).exists():
        location = path.replace(f"/{owner}/{name}", f"/{repo.owner.username}/{repo.name}", 1)
        return HubNotFound(307, "RepoRenamed", f"{owner}/{name} is now {repo.repo_id}.", location=location)
    return not_found_repo(user, f"{owner}/{name}")


def not_found_repo(user, repo_id: str) -> HubNotFound:
    anonymous = user is None or not user.is_authenticated
    return HubNotFound(
        401 if anonymous else 404,
        "RepoNotFound",
        f"Repository {repo_id} not found"
        + (": it does not exist, or it is private and you need to sign in with a token." if anonymous else "."),
    )
