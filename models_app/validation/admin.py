"""The operator's admin for validation runs: re-run a model's validation, cancel a run."""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction

from hub.admin import reason_action
from hub.api import ApiError
from hub.audit import audit
from models_app.validation.models import ValidationRun
from models_app.validation.runs import announce_finished, run_rerun, summary_update


def run_again(actor, run: ValidationRun, reason: str) -> None:
    new = run_rerun(run.revision.repo, actor)
    audit(
        actor,
        "run.rerun",
        f"validation run #{run.pk} ({run.revision.repo.repo_id})",
        reason,
        detail={"new_run": new.pk},
    )


def run_cancel(actor, run: ValidationRun, reason: str) -> None:
    with transaction.atomic():
        if not run.cancel(f"Cancelled by the operators: {reason or 'no reason given'}"):
            raise ApiError(f"Run #{run.pk} has already finished ({run.status}).", status_code=409)
        summary_update(run)
        transaction.on_commit(lambda: announce_finished(run))
    audit(actor, "run.cancel", f"validation run #{run.pk} ({run.revision.repo.repo_id})", reason)


@admin.register(ValidationRun)
class ValidationRunAdmin(admin.ModelAdmin):
    list_display = ("pk", "revision", "status", "stage", "suite", "reason", "attempts", "worker")
    list_filter = ("status", "stage", "suite")
    search_fields = ("revision__repo__name", "revision__repo__owner__username", "revision__sha")
    list_select_related = ("revision__repo__owner",)
    actions = [
        reason_action("rerun", "Re-run validation of the selected runs' models", run_again, required=False),
        reason_action("cancel", "Cancel the selected runs", run_cancel, required=False),
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):  # runs change through their state machine only
        return False
