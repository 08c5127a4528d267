"""Reports: anyone signed in reports a model, a file, its discussion or a message, with a reason.

A report lands in the operators' queue (the admin). The reporter learns only
that it was received: never whether others reported the same thing, nor what
was done about it.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from discussions.models import Message, Report
from hub.api import ApiError
from hub.audit import audit
from models_app.models import ModelRepo, RepoFile

MAX_REASON = 2000
PER_HOUR = 20  # reports one person may file in an hour: enough for honest use, a brake on floods


def report_create(user, repo: ModelRepo, kind: str, reason, *, path: str = "", message_seq=None) -> Report:
    """File a report on ``repo`` (which ``user`` may see); 400 on a bad target or reason, 429 past the hourly limit."""
    if user is None or not user.is_authenticated:
        raise ApiError("Sign in to report.", status_code=401)
    if kind not in Report.Kind.values:
        raise ApiError(f"'{kind}' is not something to report: use one of {', '.join(Report.Kind.values)}.")
    if not isinstance(reason, str) or not reason.strip():
        raise ApiError("Say why you report it: 'reason' is required.")
    if len(reason) > MAX_REASON:
        raise ApiError(f"A reason is at most {MAX_REASON} characters.")
    since = timezone.now() - timedelta(hours=1)
    if Report.objects.filter(reporter=user, created__gte=since).count() >= PER_HOUR:
        raise ApiError("You have filed many reports in the last hour; try again later.", status_code=429)
    message = None
    path = path if isinstance(path, str) else ""
    if kind == Report.Kind.FILE:
        if not path or not RepoFile.objects.filter(revision__repo=repo, path=path).exists():
            raise ApiError(f"{repo.repo_id} has no file '{path}'.", status_code=404)
    elif kind == Report.Kind.MESSAGE:
        try:
            seq = int(message_seq)
        except (TypeError, ValueError):
            raise ApiError("'message' (the message's id) is required to report a message.") from None
        message = Message.objects.filter(room__repo=repo, seq=seq).first()
        if message is None:
            raise ApiError(f"The discussion of {repo.repo_id} has no message {seq}.", status_code=404)
    with transaction.atomic():
        return Report.objects.create(
            reporter=user,
            kind=kind,
            repo=repo,
            path=path if kind == Report.Kind.FILE else "",
            message=message,
            reason=reason.strip(),
        )


def report_handle(actor, report: Report, status: str, note: str = "") -> Report:
    """Close a report as resolved or dismissed (staff); the audit log says who and why."""
    with transaction.atomic():
        report.status = status
        report.handled_by = actor
        report.handled_at = timezone.now()
        report.save(update_fields=["status", "handled_by", "handled_at"])
        audit(actor, f"report.{status}", f"report #{report.pk} ({report.target})", note)
    return report
