"""``manage.py org``: organizations for operators, through the same rules as the API (hub/orgs.py).

manage.py org create acme --admin alice [--fullname "Acme Research"]
manage.py org set acme bob --role contributor      # add a member, or change their role
manage.py org remove acme bob
manage.py org list acme
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from hub.api import ApiError
from hub.models import User
from hub.orgs import RANKS, get_org, member_remove, member_set, members_of, org_create


class Command(BaseCommand):
    help = "Create organizations and manage their members (as an operator: no role check)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create an organization with its first admin")
        create.add_argument("org")
        create.add_argument("--admin", required=True, help="username of its first admin")
        create.add_argument("--fullname", default="")
        member = sub.add_parser("set", help="add a member, or change a member's role")
        member.add_argument("org")
        member.add_argument("user")
        member.add_argument("--role", choices=list(RANKS), default="read")
        remove = sub.add_parser("remove", help="remove a member")
        remove.add_argument("org")
        remove.add_argument("user")
        listing = sub.add_parser("list", help="list the members and their roles")
        listing.add_argument("org")

    def handle(self, *args, action: str, org: str, **options):
        try:
            if action == "create":
                admin = User.objects.filter(username__iexact=options["admin"], organization__isnull=True).first()
                if admin is None:
                    raise CommandError(f"There is no user named {options['admin']}.")
                created = org_create(admin, org, options["fullname"])
                self.stdout.write(f"Created {created.name}; {admin.username} is its admin.")
            elif action == "set":
                membership = member_set(None, get_org(org), options["user"], options["role"], check=False)
                self.stdout.write(f"{membership.user.username} is {membership.role} in {membership.org.name}.")
            elif action == "remove":
                member_remove(None, get_org(org), options["user"], check=False)
                self.stdout.write(f"Removed {options['user']} from {org}.")
            else:
                for membership in members_of(get_org(org)):
                    self.stdout.write(f"{membership.user.username}\t{membership.role}")
        except ApiError as exc:
            raise CommandError(exc.message) from None
