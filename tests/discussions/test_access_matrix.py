"""Who may do what on a room's websocket: one declared matrix, checked cell by cell.

The rule it holds the sockets to is HTTP's: a read token reads and writes
nothing, whoever owns it; a banned user reads but does not post; moderation is
for the model's owner and staff. Access is re-checked on every frame, and a
repo that turns private closes the sockets of everyone who can no longer see it.
"""

from __future__ import annotations

import json

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client

from discussions import rooms
from hub.asgi import application
from hub.models import User
from hub.tokens import token_create, token_revoke
from models_app.models import ModelRepo
from models_app.repos.rules import repo_update

pytestmark = pytest.mark.django_db(transaction=True)

ACTIONS = ("connect", "history", "read", "post", "edit", "react", "delete", "ban")
# actor -> the actions it may take in a public model's room (everything else is refused).
# "read" moves one's own read mark: any user, whatever the token's scope.
MATRIX = {
    "anonymous": {"connect", "history"},
    "read token": {"connect", "history", "read"},
    "write token": {"connect", "history", "read", "post", "edit", "react"},
    "owner's read token": {"connect", "history", "read"},
    "owner": set(ACTIONS),
    "moderator": set(ACTIONS),
    "banned": {"connect", "history", "read"},
}
# In a private model's room, only these connect at all.
PRIVATE_ADMITS = {"owner", "owner's read token", "moderator"}


@pytest_asyncio.fixture(autouse=True)
async def _close_consumer_db_connections():
    yield
    await database_sync_to_async(connections.close_all)()


def _user(name: str) -> User:
    return User.objects.create_user(name, f"{name}@example.org")  # no password: nothing to hash


@pytest.fixture
def world(db):
    """alice owns the model; bob writes with tokens; sam is staff; carol is banned; erin wrote message 1."""
    alice, bob, carol, sam, erin = (_user(n) for n in ("alice", "bob", "carol", "sam", "erin"))
    sam.is_staff = True
    sam.save()
    _user("dave")
    repo = ModelRepo.objects.create(owner=alice, name="tiny-bert")
    room = rooms.room_for(repo)
    rooms.message_post(room, erin, "erin's message")  # 1: someone else's, for delete
    own = {}
    for user in (bob, carol, sam, alice):
        own[user.username] = rooms.message_post(room, user, f"{user.username}'s message").seq
    rooms.room_ban(room, alice, "carol", 60)
    credentials = {
        "anonymous": (None, None),
        "read token": ("bob", token_create(bob, "r", "read")[1]),
        "write token": ("bob", token_create(bob, "w", "write")[1]),
        "owner's read token": ("alice", token_create(alice, "r", "read")[1]),
        "owner": ("alice", "session"),
        "moderator": ("sam", token_create(sam, "w", "write")[1]),
        "banned": ("carol", token_create(carol, "w", "write")[1]),
    }
    return {"repo": repo, "own": own, "credentials": credentials}


def _session_cookie(username: str) -> bytes:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def _socket(repo: ModelRepo, credential: str | None, username: str | None) -> WebsocketCommunicator:
    headers = [(b"host", b"testserver"), (b"origin", b"http://testserver")]
    if credential == "session":
        headers.append((b"cookie", await sync_to_async(_session_cookie)(username)))
    elif credential is not None:
        headers.append((b"authorization", f"Bearer {credential}".encode()))
    return WebsocketCommunicator(application, f"/ws/models/alice/{repo.name}/", headers=headers)


async def _answer(comm: WebsocketCommunicator, *allowed_kinds: str) -> dict:
    """The next frame that answers an action: one of ``allowed_kinds``, or an error."""
    while True:
        frame = json.loads(await comm.receive_from(timeout=5))
        if frame["type"] in (*allowed_kinds, "error"):
            return frame


async def _try(action: str, comm: WebsocketCommunicator, username: str | None, own: dict) -> bool:
    """Take ``action`` on an open socket; True when the room did it, False when it refused."""
    if action == "history":
        await comm.send_json_to({"type": "history"})
        return (await _answer(comm, "history"))["type"] == "history"
    if action == "read":
        await comm.send_json_to({"type": "read", "id": 2})
        return (await _answer(comm, "read"))["type"] == "read"
    if action == "react":  # erin's message
        await comm.send_json_to({"type": "react", "id": 1, "emoji": "👍"})
        return (await _answer(comm, "reaction"))["type"] == "reaction"
    if action == "post":
        await comm.send_json_to({"type": "message", "body": "hello"})
        return (await _answer(comm, "message"))["type"] == "message"
    if action == "edit":  # one's own message (someone else's for a socket with no user)
        await comm.send_json_to({"type": "edit", "id": own.get(username, 1), "body": "edited"})
        return (await _answer(comm, "edit"))["type"] == "edit"
    if action == "delete":  # erin's message: moderation
        await comm.send_json_to({"type": "delete", "id": 1})
        return (await _answer(comm, "delete"))["type"] == "delete"
    if action == "ban":
        await comm.send_json_to({"type": "ban", "user": "dave", "minutes": 5})
        return (await _answer(comm, "banned"))["type"] == "banned"
    raise AssertionError(action)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("actor", MATRIX)
async def test_public_room_matrix(world, actor, action):
    username, credential = world["credentials"][actor]
    comm = await _socket(world["repo"], credential, username)
    connected, _ = await comm.connect()
    assert connected is True
    hello = await _answer(comm, "hello")
    assert hello["can_post"] is ("post" in MATRIX[actor])
    assert hello["moderator"] is ("ban" in MATRIX[actor])
    if action != "connect":
        assert await _try(action, comm, username, world["own"]) is (action in MATRIX[actor]), (actor, action)
    await comm.disconnect()


@pytest.mark.parametrize("actor", MATRIX)
async def test_private_room_admits_only_who_may_see_it(world, actor):
    await database_sync_to_async(ModelRepo.objects.filter(pk=world["repo"].pk).update)(private=True)
    username, credential = world["credentials"][actor]
    connected, _ = await (await _socket(world["repo"], credential, username)).connect()
    assert connected is (actor in PRIVATE_ADMITS)


async def test_turning_private_closes_the_sockets_of_those_who_lost_access(world):
    repo = world["repo"]
    sockets = {}
    for actor in ("anonymous", "write token", "owner", "moderator"):
        username, credential = world["credentials"][actor]
        sockets[actor] = comm = await _socket(repo, credential, username)
        assert (await comm.connect())[0]
        await _answer(comm, "hello")

    alice = await database_sync_to_async(User.objects.get)(username="alice")
    await database_sync_to_async(repo_update)(alice, repo, private=True)

    for actor in ("anonymous", "write token"):
        error = await _answer(sockets[actor], "never")
        assert error["code"] == "access_revoked"
        closed = await sockets[actor].receive_output(timeout=5)
        assert closed == {"type": "websocket.close", "code": 4403}
    # Those who still see the model stay, and the room goes on for them.
    await sockets["owner"].send_json_to({"type": "message", "body": "just us now"})
    for actor in ("owner", "moderator"):
        assert (await _answer(sockets[actor], "message"))["body"] == "just us now"
        await sockets[actor].disconnect()


async def test_a_revoked_token_stops_working_on_an_open_socket(world):
    username, raw = world["credentials"]["write token"]
    comm = await _socket(world["repo"], raw, username)
    assert (await comm.connect())[0]
    await _answer(comm, "hello")
    token = await database_sync_to_async(lambda: User.objects.get(username="bob").api_tokens.get(scope="write"))()
    await database_sync_to_async(token_revoke)(token)
    error = await _answer(comm, "never")
    assert error["code"] == "access_revoked"
    assert await comm.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}


async def test_a_ban_downgrades_the_open_socket_and_lifting_it_restores(world):
    username, raw = world["credentials"]["write token"]
    comm = await _socket(world["repo"], raw, username)
    assert (await comm.connect())[0]
    assert (await _answer(comm, "hello"))["can_post"] is True
    room, alice = await database_sync_to_async(
        lambda: (rooms.room_for(world["repo"]), User.objects.get(username="alice"))
    )()
    await database_sync_to_async(rooms.room_ban)(room, alice, "bob", 30)
    assert (await _answer(comm, "access"))["can_post"] is False
    assert await _try("post", comm, username, world["own"]) is False
    await database_sync_to_async(rooms.room_ban)(room, alice, "bob", 0)
    assert (await _answer(comm, "access"))["can_post"] is True
    assert await _try("post", comm, username, world["own"]) is True
    await comm.disconnect()
