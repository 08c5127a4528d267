"""``/api/organizations``: create an organization, list, add and remove its members, change a role.

Thin views over ``hub.orgs``; the rules (who may, which roles) live there.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from hub.api import ApiError
from hub.models import Membership, Organization
from hub.orgs import get_org, member_remove, member_set, members_of, org_create
from hub.permissions import IsAuthenticatedForWrites, TokenScopeAllows

WRITERS = [IsAuthenticatedForWrites, TokenScopeAllows]

MEMBER = inline_serializer(
    "OrgMember",
    {"user": serializers.CharField(), "role": serializers.CharField(), "since": serializers.DateTimeField()},
)
ORG = inline_serializer(
    "Organization",
    {
        "type": serializers.CharField(),
        "name": serializers.CharField(),
        "fullname": serializers.CharField(),
        "created": serializers.DateTimeField(),
        "members": MEMBER.__class__(many=True),
    },
)
MEMBERS = inline_serializer("OrgMembers", {"members": MEMBER.__class__(many=True)})


def org_json(org: Organization) -> dict:
    return {"type": "org", "name": org.name, "fullname": org.fullname or org.name, "created": org.created.isoformat()}


def member_json(membership: Membership) -> dict:
    return {"user": membership.user.username, "role": membership.role, "since": membership.created.isoformat()}


def _field(data, key: str) -> str:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, str) or not value:
        raise ApiError(f"'{key}' is required (a string).", status_code=400)
    return value


@extend_schema(
    request=inline_serializer("OrgCreate", {"name": serializers.CharField(), "fullname": serializers.CharField()}),
    responses={201: ORG},
    summary="Create an organization; its creator becomes admin",
)
@api_view(["POST"])
@permission_classes(WRITERS)
def organizations(request) -> Response:
    data = request.data if isinstance(request.data, dict) else {}
    fullname = data.get("fullname") if isinstance(data.get("fullname"), str) else ""
    org = org_create(request.user, _field(data, "name"), fullname)
    return Response({**org_json(org), "members": [member_json(m) for m in members_of(org)]}, status=201)


@extend_schema(responses=ORG, summary="An organization and its members")
@api_view(["GET"])
def organization_detail(request, org: str) -> Response:
    found = get_org(org)
    return Response({**org_json(found), "members": [member_json(m) for m in members_of(found)]})


@extend_schema(
    request=inline_serializer("MemberSet", {"user": serializers.CharField(), "role": serializers.CharField()}),
    responses={200: MEMBERS, 204: None},
    summary="List members (GET), add one or change a role (POST), remove one (DELETE, org admins)",
)
@api_view(["GET", "POST", "DELETE"])
@permission_classes(WRITERS)
def organization_members(request, org: str) -> Response:
    found = get_org(org)
    if request.method == "POST":
        data = request.data if isinstance(request.data, dict) else {}
        membership = member_set(request.user, found, _field(data, "user"), data.get("role") or Membership.Role.READ)
        return Response(member_json(membership))
    if request.method == "DELETE":
        data = request.data if isinstance(request.data, dict) and request.data else request.query_params
        member_remove(request.user, found, _field(data, "user"))
        return Response(status=204)
    return Response({"members": [member_json(m) for m in members_of(found)]})
