"""Organizations and their members: who holds which role in which namespace.

An organization is a User row that cannot sign in (``Organization.account``)
plus its members (``Membership``). Every entrance asks ``role_in`` /
``namespace_role`` here; the repo rules (``models_app.repos.rules``) turn a
role into what it allows on a repo. Changes go through the verbs below, which
write the audit log.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.dispatch import Signal

from hub.api import ApiError
from hub.audit import audit
from hub.models import Membership, Organization
from hub.names import validate_username

Role = Membership.Role

# kwargs: org_account_id. Sent after a member joins, leaves or changes role, once that commits:
# open sockets on the org's repos re-check what their user may now see and do.
membership_changed = Signal()


def _announce(org: Organization) -> None:
    transaction.on_commit(lambda: membership_changed.send_robust(sender=Organization, org_account_id=org.pk))


# Each role allows what the ones before it do.
RANKS = {Role.READ: 0, Role.CONTRIBUTOR: 1, Role.WRITE: 2, Role.ADMIN: 3}


def at_least(role: str | None, needed: str) -> bool:
    return role is not None and RANKS[role] >= RANKS[needed]


def find_org(name: str) -> Organization | None:
    return Organization.objects.select_related("account").filter(account__username__iexact=name).first()


def get_org(name: str) -> Organization:
    org = find_org(name)
    if org is None:
        raise ApiError(f"Organization {name} not found.", status_code=404)
    return org


def role_in(user, org_account_id: int) -> str | None:
    """``user``'s role in the organization whose account is ``org_account_id``, or None."""
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.filter(org_id=org_account_id, user_id=user.pk).values_list("role", flat=True).first()


def member_org_ids(user):
    """The account ids of the organizations ``user`` belongs to (a subquery)."""
    return Membership.objects.filter(user_id=user.pk).values("org_id")


def orgs_of(user) -> list[Membership]:
    return list(
        Membership.objects.filter(user_id=user.pk).select_related("org__account").order_by("org__account__username")
    )


def members_of(org: Organization) -> list[Membership]:
    return list(org.memberships.select_related("user").order_by("user__username"))


def can_create_in(user, namespace) -> bool:
    """Whether ``user`` may create repos under ``namespace`` (a User: a person or an org's account)."""
    if user is None or not user.is_authenticated:
        return False
    if user.pk == namespace.pk or user.is_staff:
        return True
    return at_least(role_in(user, namespace.pk), Role.CONTRIBUTOR)


def creatable_namespaces(user) -> list[str]:
    """The namespaces ``user`` may create repos in: their own, then their orgs where they are contributors or more."""
    allowed = [Role.CONTRIBUTOR, Role.WRITE, Role.ADMIN]
    orgs = Membership.objects.filter(user_id=user.pk, role__in=allowed).order_by("org__account__username")
    return [user.username, *orgs.values_list("org__account__username", flat=True)]


def _check_role(role) -> str:
    if role not in RANKS:
        raise ApiError(f"'{role}' is not a role: use one of {', '.join(RANKS)}.", status_code=400)
    return role


def require_org_admin(user, org: Organization) -> None:
    if user.is_staff or at_least(role_in(user, org.pk), Role.ADMIN):
        return
    raise ApiError(f"Only an admin of {org.name} may manage its members.", status_code=403)


def org_create(creator, name: str, fullname: str = "") -> Organization:
    """A new organization named ``name``; ``creator`` becomes its admin. 400 on a bad name, 409 when taken."""
    if not isinstance(name, str) or not name:
        raise ApiError("'name' is required.", status_code=400)
    try:
        validate_username(name)
    except ValidationError as exc:
        raise ApiError(f"'{name}' cannot be an organization name: {exc.messages[0]}", status_code=400) from None
    User = get_user_model()
    try:
        with transaction.atomic():
            if User.objects.filter(username__iexact=name).exists():
                raise IntegrityError
            account = User(username=name, is_active=False)  # an org never signs in
            account.set_unusable_password()
            account.save()
            org = Organization.objects.create(account=account, fullname=(fullname or "")[:128])
            Membership.objects.create(org=org, user=creator, role=Role.ADMIN)
            audit(creator, "org.create", f"org {name}")
    except IntegrityError:
        raise ApiError(f"The name {name} is taken by a user or an organization.", status_code=409) from None
    return org


def system_org(name: str, fullname: str = ""):
    """The account of one of the hub's own organizations (the zoo, the demo), made on first use.

    An older install holds ``name`` as a plain account that nobody signs in to
    (no usable password): it becomes the org, its repos untouched. A name a
    person signed up with stays theirs, and is returned as it is.
    """
    User = get_user_model()
    with transaction.atomic():
        account = User.objects.select_for_update().filter(username__iexact=name).first()
        if account is None:
            account = User(username=name, is_active=False)
            account.set_unusable_password()
            account.save()
        elif Organization.objects.filter(account=account).exists() or account.has_usable_password():
            return account
        account.is_active = False
        account.save(update_fields=["is_active"])
        Organization.objects.create(account=account, fullname=fullname)
    return account


def member_set(actor, org: Organization, username: str, role: str, *, check: bool = True) -> Membership:
    """Add ``username`` to ``org`` with ``role``, or change their role (org admins; ``check=False`` for operators)."""
    if check:
        require_org_admin(actor, org)
    _check_role(role)
    user = get_user_model().objects.filter(username__iexact=username or "", organization__isnull=True).first()
    if user is None:
        raise ApiError(f"There is no user named {username}.", status_code=404)
    with transaction.atomic():
        membership, created = Membership.objects.select_for_update().get_or_create(
            org=org, user=user, defaults={"role": role}
        )
        if not created and membership.role != role:
            _keep_an_admin(org, membership, role)
            membership.role = role
            membership.save(update_fields=["role"])
        audit(
            actor,
            "org.member_add" if created else "org.member_role",
            f"org {org.name}",
            detail={"user": user.username, "role": role},
        )
    return membership


def member_remove(actor, org: Organization, username: str, *, check: bool = True) -> None:
    """Remove ``username`` from ``org`` (org admins, or a member leaving; ``check=False`` for operators)."""
    membership = org.memberships.select_related("user").filter(user__username__iexact=username or "").first()
    leaving = membership is not None and actor is not None and membership.user_id == actor.pk
    if check and not leaving:
        require_org_admin(actor, org)
    if membership is None:
        raise ApiError(f"{username} is not a member of {org.name}.", status_code=404)
    with transaction.atomic():
        _keep_an_admin(org, membership, None)
        membership.delete()
        _announce(org)
        audit(actor, "org.member_remove", f"org {org.name}", detail={"user": membership.user.username})


def _keep_an_admin(org: Organization, membership: Membership, new_role: str | None) -> None:
    """An organization always keeps one admin, or nobody could manage it."""
    if membership.role != Role.ADMIN or new_role == Role.ADMIN:
        return
    if not org.memberships.filter(role=Role.ADMIN).exclude(pk=membership.pk).exists():
        raise ApiError(f"{org.name} needs at least one admin: make someone else admin first.", status_code=409)
