"""The operator's admin for repos and organizations: takedown (hide with a public reason) and restore."""

from __future__ import annotations

from django.contrib import admin

from hub.admin import AuditedAdmin, reason_action
from hub.models import Membership, Organization
from models_app.models import ModelRepo
from models_app.repos.takedown import org_hide, org_restore, repo_hide, repo_restore


@admin.register(ModelRepo)
class ModelRepoAdmin(AuditedAdmin):
    list_display = ("__str__", "repo_type", "private", "hidden_at", "hidden_reason", "downloads", "updated")
    list_filter = ("repo_type", "private", ("hidden_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "owner__username")
    list_select_related = ("owner",)
    # A takedown goes through its actions (they write the audit log and close sockets), not the form.
    readonly_fields = ("owner", "creator", "hidden_at", "hidden_reason", "downloads", "likes", "created", "updated")
    fields = (
        "owner",
        "name",
        "repo_type",
        "private",
        "license",
        "pipeline_tag",
        "tags",
        "creator",
        *readonly_fields[2:],
    )
    actions = [
        reason_action("hide", "Take down (hide) with a public reason", repo_hide),
        reason_action("restore", "Restore the selected repos", repo_restore, required=False),
    ]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin):
    list_display = ("name", "fullname", "created")
    search_fields = ("account__username", "fullname")
    readonly_fields = ("account", "created")
    inlines = [MembershipInline]
    actions = [
        reason_action(
            "hide", "Take down every repo of the selected organizations", lambda a, o, r: org_hide(a, o.account, r)
        ),
        reason_action(
            "restore",
            "Restore every repo of the selected organizations",
            lambda a, o, r: org_restore(a, o.account, r),
            required=False,
        ),
    ]

    def has_add_permission(self, request):  # orgs are created by people (/organizations/new) or manage.py org
        return False
