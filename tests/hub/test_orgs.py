"""Organizations over the API and the website: create, members and roles, whoami, who may do what in an org's repos."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from hub.models import AuditEntry, Membership, User
from hub.orgs import member_set, org_create, system_org
from hub.tokens import token_create
from models_app.repos.rules import can_manage, can_write, find_visible_repo, repo_create, visible_repos


def client_for(user: User, scope: str = "write") -> APIClient:
    _, raw = token_create(user, "t", scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def people(db) -> dict[str, User]:
    return {
        name: User.objects.create_user(name, f"{name}@example.org", "pw-correct-horse")
        for name in ("alice", "bob", "carol", "dave")
    }


@pytest.fixture
def acme(people):
    org = org_create(people["alice"], "acme", "Acme Research")
    member_set(people["alice"], org, "bob", "contributor")
    member_set(people["alice"], org, "carol", "write")
    return org


def test_creating_an_organization_makes_its_creator_admin(people):
    alice = client_for(people["alice"])
    response = alice.post("/api/organizations", {"name": "acme", "fullname": "Acme"}, format="json")
    assert response.status_code == 201
    assert response.json()["members"][0] == {**response.json()["members"][0], "user": "alice", "role": "admin"}
    # The name is shared with usernames, in any case.
    assert alice.post("/api/organizations", {"name": "ACME"}, format="json").status_code == 409
    assert alice.post("/api/organizations", {"name": "bob"}, format="json").status_code == 409
    assert alice.post("/api/organizations", {"name": "api"}, format="json").status_code == 400
    assert alice.post("/api/organizations", {}, format="json").json()["error"] == "'name' is required (a string)."
    # The org's account never signs in.
    assert not User.objects.get(username="acme").has_usable_password()
    assert AuditEntry.objects.filter(action="org.create", target="org acme").exists()


def test_admins_add_change_and_remove_members_others_cannot(people, acme):
    alice, bob = client_for(people["alice"]), client_for(people["bob"])
    listing = alice.get("/api/organizations/acme/members").json()["members"]
    assert {m["user"]: m["role"] for m in listing} == {"alice": "admin", "bob": "contributor", "carol": "write"}
    assert (
        alice.post("/api/organizations/acme/members", {"user": "dave", "role": "read"}, format="json").json()["role"]
        == "read"
    )
    assert (
        alice.post("/api/organizations/acme/members", {"user": "dave", "role": "write"}, format="json").status_code
        == 200
    )
    assert Membership.objects.get(user__username="dave").role == "write"
    refused = bob.post("/api/organizations/acme/members", {"user": "bob", "role": "admin"}, format="json")
    assert refused.status_code == 403 and "Only an admin of acme" in refused.json()["error"]
    assert (
        alice.post("/api/organizations/acme/members", {"user": "dave", "role": "owner"}, format="json").status_code
        == 400
    )
    assert alice.post("/api/organizations/acme/members", {"user": "nobody"}, format="json").status_code == 404
    assert alice.delete("/api/organizations/acme/members?user=dave").status_code == 204
    assert not Membership.objects.filter(user__username="dave").exists()
    # The last admin cannot leave or step down.
    assert alice.delete("/api/organizations/acme/members?user=alice").status_code == 409
    assert (
        client_for(people["alice"], "read")
        .post("/api/organizations/acme/members", {"user": "dave"}, format="json")
        .status_code
        == 403
    )
    assert APIClient().get("/api/organizations/nope/members").status_code == 404
    actions = set(AuditEntry.objects.filter(target="org acme").values_list("action", flat=True))
    assert {"org.member_add", "org.member_role", "org.member_remove"} <= actions


def test_whoami_lists_the_orgs_with_the_role(people, acme):
    body = client_for(people["bob"]).get("/api/whoami-v2").json()
    assert body["orgs"] == [
        {"type": "org", "id": str(acme.pk), "name": "acme", "fullname": "Acme Research", "roleInOrg": "contributor"}
    ]
    assert client_for(people["dave"]).get("/api/whoami-v2").json()["orgs"] == []


def test_roles_decide_who_writes_to_an_orgs_repos(people, acme):
    account = acme.account
    by_bob = repo_create(account, "m", creator=people["bob"])
    by_alice = repo_create(account, "other", creator=people["alice"])
    assert can_write(people["bob"], by_bob) and not can_write(people["bob"], by_alice)  # contributor: own repos
    assert can_write(people["carol"], by_bob) and can_write(people["carol"], by_alice)
    assert not can_write(people["dave"], by_bob)
    assert can_manage(people["alice"], by_bob) and not can_manage(people["carol"], by_bob)


def test_a_private_org_repo_is_seen_by_members_only(people, acme):

    private = repo_create(acme.account, "p", private=True, creator=people["alice"])
    repo_create(acme.account, "public", creator=people["alice"])
    for name in ("alice", "bob", "carol"):
        assert find_visible_repo(people[name], "acme", "p") == private
    assert find_visible_repo(people["dave"], "acme", "p") is None
    assert list(visible_repos(people["dave"]).filter(owner=acme.account).values_list("name", flat=True)) == ["public"]
    # A member sees each public repo once (the membership is a subquery, not a join).
    assert visible_repos(people["bob"]).filter(owner=acme.account).count() == 2
    dave = client_for(people["dave"])
    assert dave.get("/api/models/acme/p").status_code == 404
    assert [m["id"] for m in dave.get("/api/models?author=acme").json()] == ["acme/public"]
    assert client_for(people["bob"]).get("/api/models/acme/p").status_code == 200


def test_create_in_an_org_needs_contributor(people, acme):
    member_set(people["alice"], acme, "dave", "read")
    bob, dave = client_for(people["bob"]), client_for(people["dave"])
    created = bob.post("/api/repos/create", {"name": "m", "organization": "acme"}, format="json")
    assert created.status_code == 200 and created.json()["name"] == "acme/m"
    refused = dave.post("/api/repos/create", {"name": "x", "organization": "acme"}, format="json")
    assert refused.status_code == 403 and "contributor" in refused.json()["error"]
    assert bob.post("/api/models", {"name": "n", "organization": "acme"}, format="json").status_code == 201
    assert bob.post("/api/repos/create", {"name": "x", "organization": "carol"}, format="json").status_code == 403


def test_org_pages_list_models_and_members(client, people, acme):
    repo_create(acme.account, "m", creator=people["bob"])
    page = client.get("/acme")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Acme Research" in html and "acme/m" in html and 'href="/carol"' in html
    assert 'href="/acme"' in client.get("/bob").content.decode()
    client.force_login(people["alice"])
    response = client.post("/organizations/acme/members", {"action": "set", "user": "dave", "role": "read"})
    assert response.status_code == 302
    assert Membership.objects.get(user__username="dave").role == "read"
    client.force_login(people["bob"])
    refused = client.post("/organizations/acme/members", {"action": "set", "user": "bob", "role": "admin"})
    assert refused.status_code == 403 and "Only an admin" in refused.content.decode()
    new = client.post("/organizations/new", {"name": "bobs-lab"})
    assert new.status_code == 302 and Membership.objects.get(org__account__username="bobs-lab").user == people["bob"]


def test_new_repo_form_offers_the_orgs(client, people, acme):
    client.force_login(people["bob"])
    assert 'value="acme"' in client.get("/new").content.decode()
    response = client.post("/new", {"owner": "acme", "name": "m", "type": "model"})
    assert response.status_code == 302 and response["Location"] == "/acme/m/upload"


def test_the_hubs_own_orgs_take_over_an_older_plain_account_but_never_a_persons(db):
    older = User.objects.create_user("zoo")  # what publish_zoo made before organizations existed
    assert not older.is_organization
    assert system_org("zoo", "TransferHub model zoo") == older
    older.refresh_from_db()
    assert older.is_organization and older.organization.fullname == "TransferHub model zoo"
    assert system_org("zoo") == older  # idempotent
    person = User.objects.create_user("demo", password="pw-correct-horse")
    assert system_org("demo") == person and not person.is_organization
    assert system_org("fresh").is_organization


def test_repo_settings_are_for_org_admins(client, people, acme):
    repo_create(acme.account, "m", creator=people["bob"])
    client.force_login(people["carol"])  # write: pushes, but settings are not hers
    assert client.get("/acme/m/settings").status_code == 403
    assert 'href="/acme/m/settings"' not in client.get("/acme/m").content.decode()
    client.force_login(people["alice"])
    assert client.get("/acme/m/settings").status_code == 200
    assert 'href="/acme/m/settings"' in client.get("/acme/m").content.decode()
    response = client.post("/acme/m/settings", {"action": "visibility", "private": "on"})
    assert response.status_code == 302
    assert find_visible_repo(people["dave"], "acme", "m") is None


def test_operators_manage_orgs_from_the_command_line(people):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("org", "create", "lab", "--admin", "alice", "--fullname", "The Lab", stdout=out)
    call_command("org", "set", "lab", "bob", "--role", "write", stdout=out)
    call_command("org", "set", "lab", "bob", "--role", "contributor", stdout=out)
    call_command("org", "list", "lab", stdout=out)
    assert "alice\tadmin" in out.getvalue() and "bob\tcontributor" in out.getvalue()
    call_command("org", "remove", "lab", "bob", stdout=out)
    assert not Membership.objects.filter(user__username="bob").exists()
    with pytest.raises(CommandError, match="needs at least one admin"):
        call_command("org", "remove", "lab", "alice")
    with pytest.raises(CommandError, match="taken"):
        call_command("org", "create", "bob", "--admin", "alice")
    with pytest.raises(CommandError, match="no user named"):
        call_command("org", "set", "lab", "lab", "--role", "read")  # an org is not a member of one
    actions = list(AuditEntry.objects.filter(target="org lab").values_list("action", flat=True))
    assert {"org.create", "org.member_add", "org.member_role", "org.member_remove"} <= set(actions)
