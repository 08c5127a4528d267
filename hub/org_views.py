"""Organization pages for people: create one, and manage its members (its admins)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from hub.api import ApiError
from hub.models import Membership
from hub.orgs import RANKS, Role, find_org, member_remove, member_set, members_of, org_create, role_in


@login_required
def org_new(request: HttpRequest) -> HttpResponse:
    error, status = None, 200
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        try:
            org = org_create(request.user, name, request.POST.get("fullname", "").strip())
        except ApiError as exc:
            error, status = exc.message, exc.status_code
        else:
            messages.success(request, f"Created the organization {org.name}; you are its admin.")
            return redirect("org_members", org=org.name)
    return render(request, "hub/org_new.html", {"error": error, "form": request.POST}, status=status)


def org_members(request: HttpRequest, org: str) -> HttpResponse:
    found = find_org(org)
    if found is None:
        raise Http404(f"Organization {org} not found.")
    error, status = None, 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"/accounts/login/?next={request.path}")
        username = request.POST.get("user", "").strip()
        try:
            if request.POST.get("action") == "remove":
                member_remove(request.user, found, username)
                messages.success(request, f"{username} is no longer a member of {found.name}.")
            else:
                membership = member_set(request.user, found, username, request.POST.get("role", Role.READ))
                messages.success(request, f"{membership.user.username} is now {membership.role} in {found.name}.")
        except ApiError as exc:
            error, status = exc.message, exc.status_code
        else:
            return redirect("org_members", org=found.name)
    role = role_in(request.user, found.pk)
    context = {
        "org": found,
        "members": members_of(found),
        "roles": list(RANKS),
        "is_admin": role == Role.ADMIN or getattr(request.user, "is_staff", False),
        "my_role": role,
        "error": error,
        "role_help": ROLE_HELP,
    }
    return render(request, "hub/org_members.html", context, status=status)


ROLE_HELP = {
    Membership.Role.READ: "sees the organization's private repos",
    Membership.Role.CONTRIBUTOR: "also creates repos, writes to the ones they created, opens pull requests",
    Membership.Role.WRITE: "also writes to every repo of the organization",
    Membership.Role.ADMIN: "also manages members and repo settings",
}
