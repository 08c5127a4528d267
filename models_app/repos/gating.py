"""Gated repos: the card is public, the other files need an accepted access request.

As on the Hugging Face Hub: ``gated="auto"`` accepts every request at once,
``"manual"`` leaves it pending until a writer accepts or rejects it. A writer
can also grant access without a request, and cancel an answer (back to
pending). Downloads ask ``may_read_file``; a refusal is ``GatedRepo``, which
huggingface_hub turns into ``GatedRepoError``.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from hub.api import ApiError
from models_app.models import AccessRequest, ModelRepo
from models_app.repos.events import announce_access_change
from models_app.repos.rules import NOUNS, can_write

GATE_MODES = ("auto", "manual")
# Readable by everyone who can see a gated repo: what people need to decide whether to ask.
# Nothing is readable without access (the HF hub gates .gitattributes and the card too); the website
# still shows the card, read from the database, so people can decide whether to ask.
ALWAYS_READABLE: frozenset[str] = frozenset()
Status = AccessRequest.Status


def gate_value(gated) -> str:
    """The stored mode for the client's ``gated`` value (``"auto"``, ``"manual"`` or False)."""
    if gated in (False, None, "", "false", "False"):
        return ""
    if gated not in GATE_MODES:
        raise ApiError("'gated' must be 'auto', 'manual' or false.", status_code=400)
    return gated


def has_access(user, repo: ModelRepo) -> bool:
    if not repo.gated or can_write(user, repo):
        return True
    if user is None or not user.is_authenticated:
        return False
    return AccessRequest.objects.filter(repo=repo, user=user, status=Status.ACCEPTED).exists()


def may_read_file(user, repo: ModelRepo, path: str) -> bool:
    return path in ALWAYS_READABLE or has_access(user, repo)


def gated_message(repo: ModelRepo, user=None) -> str:
    noun = NOUNS[repo.repo_type]
    if user is None or not user.is_authenticated:
        return (
            f"Access to {noun} {repo.repo_id} is restricted. You must have access to it and be authenticated to "
            f"access it: sign in or send a token, and ask for access on its page ({repo.web_path})."
        )
    return (
        f"Access to {noun} {repo.repo_id} is restricted and you are not in the authorized list: "
        f"ask for access on its page ({repo.web_path})."
    )


def access_ask(user, repo: ModelRepo, fields: dict | None = None) -> AccessRequest:
    """``user`` asks for access; accepted at once when the repo is gated ``auto``."""
    if not repo.gated:
        raise ApiError(f"{repo.repo_id} is not gated: its files need no request.", status_code=400)
    status = Status.ACCEPTED if repo.gated == "auto" else Status.PENDING
    row, created = AccessRequest.objects.get_or_create(
        repo=repo, user=user, defaults={"status": status, "fields": fields or {}}
    )
    if not created:
        raise ApiError(f"You already asked for access to {repo.repo_id} ({row.status}).", status_code=409)
    return row


def _require_writer(actor, repo: ModelRepo) -> None:
    if not can_write(actor, repo):
        raise ApiError(f"Only those who may write to {repo.repo_id} manage its access requests.", status_code=403)


def access_requests(actor, repo: ModelRepo, status: str) -> list[dict]:
    _require_writer(actor, repo)
    if status not in Status.values:
        raise ApiError(f"'{status}' is not pending, accepted or rejected.", status_code=400)
    rows = AccessRequest.objects.filter(repo=repo, status=status).select_related("user").order_by("created")
    return [
        {
            "requestId": str(row.pk),
            "status": row.status,
            "timestamp": row.updated,
            "user": {
                "user": row.user.username,
                "fullname": row.user.get_full_name() or row.user.username,
                "email": None if row.granted else (row.user.email or None),
            },
            "fields": row.fields or None,
        }
        for row in rows
    ]


def access_handle(actor, repo: ModelRepo, *, username=None, request_id=None, status: str, reason: str = "") -> None:
    """Accept, reject or cancel (back to pending) one request; 400 when it already has that status."""
    _require_writer(actor, repo)
    if status not in Status.values:
        raise ApiError(f"'{status}' is not pending, accepted or rejected.", status_code=400)
    rows = AccessRequest.objects.filter(repo=repo)
    if request_id is not None:
        row = rows.filter(pk=int(request_id)).first() if str(request_id).isdigit() else None
    else:
        row = rows.filter(user__username__iexact=str(username)).first()
    if row is None:
        raise ApiError("No such access request.", status_code=404)
    if row.status == status:
        raise ApiError(f"This access request is already {status}.", status_code=400)
    row.status, row.rejection_reason, row.updated = status, (reason or "")[:500], timezone.now()
    row.save(update_fields=["status", "rejection_reason", "updated"])
    announce_access_change(repo.pk)


def access_grant(actor, repo: ModelRepo, username: str) -> None:
    _require_writer(actor, repo)
    user = get_user_model().objects.filter(username__iexact=username, is_active=True).first()
    if user is None:
        raise ApiError(f"No user named {username}.", status_code=404)
    try:
        with transaction.atomic():
            AccessRequest.objects.create(repo=repo, user=user, status=Status.ACCEPTED, granted=True)
    except IntegrityError:
        raise ApiError(f"{user.username} already has a request for {repo.repo_id}.", status_code=409) from None
