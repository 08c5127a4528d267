"""The operator's admin (Django's, at /admin/, staff only): accounts, the audit log, and the shared pieces.

Every change made here leaves a row in the audit log: edits through the
change forms (``AuditedAdmin``) and every action (each action's service
writes its own row, with the reason staff typed).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.template.response import TemplateResponse

from hub.api import ApiError
from hub.audit import audit
from hub.models import AuditEntry, User
from hub.tokens import account_disabled, token_revoke

admin.site.site_header = "TransferHub operations"
admin.site.site_title = "TransferHub admin"
admin.site.index_title = "Run the hub"


class AuditedAdmin(admin.ModelAdmin):
    """Edits through the admin's own forms go to the audit log too, beside Django's LogEntry."""

    def log_addition(self, request, obj, message):
        audit(request.user, f"{obj._meta.model_name}.add", f"{obj._meta.verbose_name} {obj}")
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        audit(
            request.user,
            f"{obj._meta.model_name}.change",
            f"{obj._meta.verbose_name} {obj}",
            detail={"change": str(message)},
        )
        return super().log_change(request, obj, message)

    def log_deletion(self, request, obj, object_repr):
        audit(request.user, f"{obj._meta.model_name}.delete", f"{obj._meta.verbose_name} {object_repr}")
        return super().log_deletion(request, obj, object_repr)

    def log_deletions(self, request, queryset):  # Django 5.1+: the bulk "delete selected" action
        for obj in queryset:
            audit(request.user, f"{obj._meta.model_name}.delete", f"{obj._meta.verbose_name} {obj}")
        return super().log_deletions(request, queryset)


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=500)


def reason_action(name: str, description: str, do, *, required: bool = True):
    """An admin action that first asks for a reason (an intermediate page), then calls ``do(actor, obj, reason)``."""

    def action(modeladmin, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if not required:
            form.fields["reason"].required = False
        if "apply" in request.POST and form.is_valid():
            done = 0
            for obj in queryset:
                try:
                    with transaction.atomic():
                        do(request.user, obj, form.cleaned_data["reason"])
                    done += 1
                except ApiError as exc:
                    modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
            modeladmin.message_user(request, f"{description}: done for {done} of {len(queryset)}.", messages.SUCCESS)
            return None
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": description,
            "description": description,
            "queryset": queryset,
            "form": form,
            "action": request.POST.get("action"),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": modeladmin.model._meta,
        }
        return TemplateResponse(request, "admin/reason_confirm.html", context)

    action.short_description = description
    action.__name__ = name  # the action's id in the admin's form
    return action


def user_disable(actor, user: User, reason: str) -> None:
    """Disable an account: it cannot sign in, and its sessions, tokens and sockets stop working at once."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit(actor, "user.disable", f"user {user.username}", reason)
    transaction.on_commit(lambda: account_disabled.send_robust(sender=User, user=user))


def user_enable(actor, user: User, reason: str) -> None:
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit(actor, "user.enable", f"user {user.username}", reason)


def user_tokens_reset(actor, user: User, reason: str) -> None:
    """Revoke every live token of ``user`` (they make new ones under Settings > Access tokens)."""
    revoked = 0
    for token in user.api_tokens.filter(revoked__isnull=True):
        token_revoke(token)
        revoked += 1
    audit(actor, "user.tokens_reset", f"user {user.username}", reason, detail={"revoked": revoked})


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    list_display = ("username", "email", "is_active", "is_staff", "storage_quota", "date_joined", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser")
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Hub", {"fields": ("bio", "storage_quota")}))
    actions = [
        reason_action("disable", "Disable the selected accounts", user_disable),
        reason_action("enable", "Enable the selected accounts", user_enable),
        reason_action("reset_tokens", "Reset (revoke) the selected accounts' tokens", user_tokens_reset),
    ]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is written by the actions, never edited."""

    list_display = ("created", "actor", "action", "target", "reason")
    list_filter = ("action", "created")
    search_fields = ("target", "reason", "actor__username", "action")
    date_hierarchy = "created"
    list_select_related = ("actor",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
