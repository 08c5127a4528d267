"""The operator's admin for rooms and reports: the report queue, messages across the site, room bans."""

from __future__ import annotations

from django.contrib import admin

from discussions import rooms
from discussions.models import Message, Report, RoomBan
from discussions.reports import report_handle
from hub.admin import AuditedAdmin, reason_action
from hub.api import ApiError
from hub.audit import audit


def message_remove(actor, message: Message, reason: str) -> None:
    """Staff moderate every room: the message becomes a tombstone for everyone, live."""
    try:
        rooms.message_delete(message.room, actor, message.seq)
    except rooms.RoomError as exc:
        raise ApiError(exc.message, status_code=403) from None
    audit(actor, "message.delete", f"message {message.room.repo.repo_id}#{message.seq}", reason)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """The queue: open reports first; resolve (acted on) or dismiss, with a note for the audit log."""

    list_display = ("created", "kind", "target_link", "reason", "reporter", "status", "handled_by")
    list_filter = ("status", "kind")
    search_fields = ("reason", "repo__name", "repo__owner__username", "reporter__username")
    list_select_related = ("repo__owner", "reporter", "handled_by", "message")
    actions = [
        reason_action(
            "resolve",
            "Resolve (acted on)",
            lambda a, r, note: report_handle(a, r, Report.Status.RESOLVED, note),
            required=False,
        ),
        reason_action(
            "dismiss",
            "Dismiss (nothing to do)",
            lambda a, r, note: report_handle(a, r, Report.Status.DISMISSED, note),
            required=False,
        ),
    ]

    @admin.display(description="target")
    def target_link(self, report: Report) -> str:
        return report.target

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("status", "-created")  # "open" sorts before the rest

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("__str__", "room", "author", "created", "deleted", "body")
    list_filter = (("deleted", admin.EmptyFieldListFilter), "kind")
    search_fields = ("body", "author__username", "room__repo__name")
    list_select_related = ("room__repo__owner", "author")
    actions = [
        reason_action("delete_messages", "Delete the selected messages (moderation)", message_remove, required=False)
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):  # a tombstone, through the action, never a row deletion
        return False


@admin.register(RoomBan)
class RoomBanAdmin(AuditedAdmin):
    list_display = ("room", "user", "until", "by", "reason")
    search_fields = ("user__username", "room__repo__name")
    raw_id_fields = ("room", "user", "by")
