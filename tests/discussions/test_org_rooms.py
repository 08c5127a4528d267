"""Rooms of an organization's private repo: members get in, outsiders do not, and a member removed, or a model
taken down, loses the open socket at once."""

from __future__ import annotations

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from django.db import connections

from hub.orgs import member_remove, member_set, org_create
from models_app.repos.rules import repo_create
from models_app.repos.takedown import repo_hide
from tests.discussions.conftest import receive_type, socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest_asyncio.fixture(autouse=True)
async def _close_consumer_db_connections():
    yield
    await database_sync_to_async(connections.close_all)()


@pytest.fixture
def org_repo(owner, other_user):
    org = org_create(owner, "acme")
    member_set(owner, org, other_user.username, "read")
    return repo_create(org.account, "p", private=True, creator=owner)


async def test_members_only_and_a_removed_member_is_closed_out(org_repo, tokens, owner):
    connected, _ = await socket(org_repo, tokens["carol"]).connect()
    assert connected is False  # not a member: the same refusal as a repo that does not exist
    bob = socket(org_repo, tokens["bob"])
    assert (await bob.connect())[0]
    await receive_type(bob, "hello")
    org = await database_sync_to_async(lambda: org_repo.owner.organization)()
    await database_sync_to_async(member_remove)(owner, org, "bob")
    assert (await receive_type(bob, "error"))["code"] == "access_revoked"
    assert await bob.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}


async def test_a_takedown_closes_the_room(org_repo, tokens, owner, staff):
    alice = socket(org_repo, tokens["alice"])
    assert (await alice.connect())[0]
    await receive_type(alice, "hello")
    await database_sync_to_async(repo_hide)(staff, org_repo, "spam")
    assert (await receive_type(alice, "error"))["code"] == "access_revoked"
    assert await alice.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}
    connected, _ = await socket(org_repo, tokens["alice"]).connect()
    assert connected is False


async def test_disabling_an_account_in_the_admin_closes_its_sockets(public_repo, tokens, staff, other_user):
    from hub.admin import user_disable

    bob = socket(public_repo, tokens["bob"])
    assert (await bob.connect())[0]
    await receive_type(bob, "hello")
    await database_sync_to_async(user_disable)(staff, other_user, "abuse")
    assert (await receive_type(bob, "error"))["code"] == "access_revoked"
    assert await bob.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}
