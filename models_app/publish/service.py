"""The steps of a native upload shared by every entry point (streaming front, DRF view, website form).

``upload_target`` decides who may upload where, ``upload_limits_check`` refuses
a body whose announced length already breaks a limit (before one byte is
read), and ``upload_commit`` turns a finished ``UploadForm`` into a revision
and the answer the uploader sees.
"""

from __future__ import annotations

from hub.api import ApiError
from hub.models import ApiToken
from hub.permissions import READ_ONLY_TOKEN_MESSAGE
from models_app.models import ModelRepo, RepoFile
from models_app.publish.multipart import PART_OVERHEAD, UploadForm
from models_app.publish.uploads import Ingest, Limits, UploadError
from models_app.repos.quota import human_size
from models_app.repos.revisions import revision_create
from models_app.repos.rules import MODEL, can_write, find_visible_repo, redirect_target, visible_repos
from models_app.streaming import BATCH_BYTES


def upload_target(user, token, owner: str, name: str, repo_type: str = MODEL) -> ModelRepo:
    """The repo ``user`` may upload to: 401 anonymous, 403 read token or not owner, 404 not visible."""
    if user is None or not user.is_authenticated:
        raise ApiError("Log in or send a write token (Authorization: Bearer ...) to upload.", status_code=401)
    if isinstance(token, ApiToken) and not token.can_write:
        raise ApiError(READ_ONLY_TOKEN_MESSAGE, status_code=403)
    repo = find_visible_repo(user, owner, name, repo_type)
    if repo is None:
        # A renamed repo keeps taking uploads under its old name (a redirect would make the client resend the body).
        repo = redirect_target(owner, name, repo_type)
        if repo is None or not visible_repos(user).filter(pk=repo.pk).exists():
            raise ApiError(f"Repository {owner}/{name} not found.", status_code=404, code="RepoNotFound")
    if not can_write(user, repo):
        raise ApiError(f"Only the owner may upload to {repo.repo_id}.", status_code=403)
    return repo


def upload_limits_check(limits: Limits, content_length: int | None) -> None:
    """Refuse up front a body whose length alone proves a limit would break.

    File bytes are at most the body length, and the framing of each part is
    at most ``PART_OVERHEAD``; so a body longer than the quota plus the
    framing of the largest allowed number of files cannot fit.
    """
    if content_length is None:
        return
    framing = limits.max_files * PART_OVERHEAD
    ceiling, which = min(
        (limits.user_remaining, "your storage quota"),
        (limits.repo_remaining, "the repository's storage quota"),
        (limits.max_files * limits.max_file_size, "the upload size limit"),
    )
    if content_length > max(ceiling, 0) + framing:
        raise UploadError(
            f"This upload ({human_size(content_length)}) would exceed {which} ({human_size(max(ceiling, 0))} left).",
            status_code=413,
        )


def upload_commit(repo: ModelRepo, user, form: UploadForm) -> tuple[int, dict]:
    """Commit a finished upload to ``main``: (201, payload) or (200, payload) when nothing changed."""
    form.close()
    message = form.fields.get("message", "").strip() or _default_message(form.ingest.files)
    result = revision_create(
        repo,
        author=user,
        message=message,
        description=form.fields.get("description", ""),
        add=form.ingest.files,
        parent_sha=form.fields.get("parent_commit") or None,
    )
    payload = revision_payload(repo, result.revision)
    payload["created"] = result.created
    payload["warnings"] = list(result.card_warnings)
    if not result.created:
        payload["message"] = "Nothing changed: every file is identical to main, so no revision was created."
        return 200, payload
    payload["message"] = f"Created revision {result.revision.sha[:12]} with {len(form.ingest.files)} file(s)."
    return 201, payload


def upload_from_request(repo: ModelRepo, user, request, *, before_files=None) -> tuple[int, dict]:
    """A multipart upload in a Django request's body, read and committed like the streamed route does.

    For the paths without the streaming front (test client, WSGI, the website's
    no-JS form); ``before_files`` as for ``UploadForm``.
    """
    ingest = Ingest(repo)
    length = request.META.get("CONTENT_LENGTH")
    upload_limits_check(ingest.limits, int(length) if str(length or "").isdigit() else None)
    form = UploadForm(ingest, request.META.get("CONTENT_TYPE", ""), before_files=before_files)
    try:
        while chunk := request.read(BATCH_BYTES):
            form.feed(chunk)
        return upload_commit(repo, user, form)
    finally:
        form.abort()


def publish_directory(repo: ModelRepo, folder, *, author, message: str):
    """Commit every file under ``folder`` to ``repo``'s main as one revision, through the upload path.

    What the management commands use (``publish_folder``, ``publish_demo``,
    ``publish_zoo``): the same ``Ingest`` and ``revision_create`` as an upload,
    so limits, the card and the validation queueing all apply.
    """
    from pathlib import Path

    from models_app.publish.uploads import iter_file

    folder = Path(folder)
    ingest = Ingest(repo)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        with path.open("rb") as handle:
            ingest.add(path.relative_to(folder).as_posix(), iter_file(handle))
    return revision_create(repo, author=author, message=message, add=ingest.files)


def _default_message(files) -> str:
    names = sorted(files)
    if len(names) == 1:
        return f"Upload {names[0]}"
    return f"Upload {len(names)} files"


def revision_payload(repo: ModelRepo, revision) -> dict:
    base = repo.web_path
    files = RepoFile.objects.filter(revision=revision).select_related("blob").order_by("path")
    return {
        "id": repo.repo_id,
        "sha": revision.sha,
        "commit_url": f"{base}/commit/{revision.sha}",
        "revision": {
            "sha": revision.sha,
            "parent": revision.parent.sha if revision.parent_id else None,
            "title": revision.message,
            "author": revision.author.username if revision.author_id else None,
            "date": revision.created.isoformat(),
        },
        "manifest": [{"path": f.path, "sha256": f.blob_id, "size": f.blob.size} for f in files],
    }
