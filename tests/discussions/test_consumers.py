"""The room's websocket, driven with Channels' communicator (one process, real database)."""

from __future__ import annotations

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connections

from discussions import reading
from hub.models import User
from tests.discussions.conftest import receive_type, socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest_asyncio.fixture(autouse=True)
async def _close_consumer_db_connections():
    # The consumers' queries ran in asgiref's one database thread; close its
    # connection so PostgreSQL can drop the test database at the end.
    yield
    await database_sync_to_async(connections.close_all)()


async def test_hello_then_message_reaches_every_member_including_the_sender(public_repo, tokens):
    a, b = socket(public_repo, tokens["alice"]), socket(public_repo, tokens["bob"])
    assert (await a.connect())[0] and (await b.connect())[0]
    hello = await receive_type(a, "hello")
    assert hello["room"] == "alice/tiny-bert" and hello["can_post"] is True and hello["last_id"] == 0
    assert (await receive_type(b, "hello"))["online"] == ["alice", "bob"]

    await a.send_json_to({"type": "message", "body": "hello **bob**", "client_id": "c1"})
    for comm in (a, b):
        frame = await receive_type(comm, "message")
        assert frame["id"] == 1 and frame["author"] == "alice" and frame["client_id"] == "c1"
        assert frame["html"] == "<p>hello <strong>bob</strong></p>\n"
    await a.disconnect()
    await b.disconnect()


async def test_anonymous_reads_but_cannot_post(public_repo):
    anon = socket(public_repo)
    assert (await anon.connect())[0]
    assert (await receive_type(anon, "hello"))["can_post"] is False
    await anon.send_json_to({"type": "message", "body": "hi"})
    error = await receive_type(anon, "error")
    assert error["code"] == "not_allowed"
    await anon.disconnect()


async def test_private_room_refuses_outsiders_and_admits_the_owner(private_repo, tokens):
    connected, _ = await socket(private_repo, tokens["bob"]).connect()
    assert connected is False
    connected, _ = await socket(private_repo).connect()
    assert connected is False
    owner = socket(private_repo, tokens["alice"])
    assert (await owner.connect())[0]
    await owner.disconnect()


async def test_foreign_origin_is_refused(public_repo):
    connected, _ = await socket(public_repo, origin="https://evil.example").connect()
    assert connected is False


async def test_bad_token_is_refused(public_repo):
    from channels.testing import WebsocketCommunicator

    from hub.asgi import application

    comm = WebsocketCommunicator(
        application, "/ws/models/alice/tiny-bert/", headers=[(b"authorization", b"Bearer thub_nope")]
    )
    assert (await comm.connect())[0] is False


async def test_errors_for_invalid_frames_and_long_messages(public_repo, tokens):
    a = socket(public_repo, tokens["alice"])
    await a.connect()
    await receive_type(a, "hello")
    await a.send_to(text_data="not json")
    assert (await receive_type(a, "error"))["code"] == "invalid"
    await a.send_json_to({"type": "dance"})
    assert (await receive_type(a, "error"))["code"] == "invalid"
    await a.send_json_to({"type": "message", "body": "x" * 4001})
    assert (await receive_type(a, "error"))["code"] == "too_long"
    await a.disconnect()


async def test_history_edit_delete_and_typing(public_repo, tokens):
    a, b = socket(public_repo, tokens["alice"]), socket(public_repo, tokens["bob"])
    await a.connect()
    await b.connect()
    await receive_type(a, "hello")
    await receive_type(b, "hello")
    for n in range(3):
        await a.send_json_to({"type": "message", "body": f"m{n}"})
        await receive_type(a, "message")
        await receive_type(b, "message")
    await b.send_json_to({"type": "history", "after": 1})
    assert [m["body"] for m in (await receive_type(b, "history"))["messages"]] == ["m1", "m2"]
    await b.send_json_to({"type": "history", "before": 3, "limit": 1})
    assert [m["id"] for m in (await receive_type(b, "history"))["messages"]] == [2]

    await b.send_json_to({"type": "edit", "id": 1, "body": "not mine"})
    assert (await receive_type(b, "error"))["code"] == "not_allowed"
    await a.send_json_to({"type": "edit", "id": 1, "body": "m0 *fixed*"})
    edit = await receive_type(b, "edit")
    assert edit["id"] == 1 and edit["html"] == "<p>m0 <em>fixed</em></p>\n" and edit["edited"]
    await a.send_json_to({"type": "delete", "id": 2})
    tomb = await receive_type(b, "delete")
    assert tomb["id"] == 2 and tomb["deleted"] is True and tomb["body"] == "" and tomb["html"] == ""

    assert (await receive_type(a, "edit"))["id"] == 1 and (await receive_type(a, "delete"))["id"] == 2
    await b.send_json_to({"type": "typing"})
    assert (await a.receive_json_from(timeout=5)) == {"type": "typing", "user": "bob"}
    await a.disconnect()
    await b.disconnect()


async def test_presence_updates_on_join_and_leave(public_repo, tokens):
    a = socket(public_repo, tokens["alice"])
    await a.connect()
    assert (await a.receive_json_from(timeout=5))["online"] == ["alice"]
    b = socket(public_repo, tokens["bob"])
    await b.connect()
    assert await a.receive_json_from(timeout=5) == {"type": "presence", "online": ["alice", "bob"]}
    await b.disconnect()
    assert await a.receive_json_from(timeout=5) == {"type": "presence", "online": ["alice"]}
    await a.disconnect()


async def test_moderator_bans_and_banned_user_cannot_post(public_repo, tokens):
    a, b = socket(public_repo, tokens["alice"]), socket(public_repo, tokens["bob"])
    await a.connect()
    await b.connect()
    await receive_type(a, "hello")
    await receive_type(b, "hello")
    await b.send_json_to({"type": "ban", "user": "alice", "minutes": 5})
    assert (await receive_type(b, "error"))["code"] == "not_allowed"
    await a.send_json_to({"type": "ban", "user": "bob", "minutes": 30, "reason": "spam"})
    banned = await receive_type(a, "banned")
    assert banned["user"] == "bob" and banned["until"]
    # bob's open socket is told at once that it may no longer post.
    assert await receive_type(b, "access") == {"type": "access", "can_post": False, "moderator": False}
    await b.send_json_to({"type": "message", "body": "let me in"})
    error = await receive_type(b, "error")
    assert error["code"] == "not_allowed" and "banned" in error["message"]
    again = socket(public_repo, tokens["bob"])
    await again.connect()
    assert (await receive_type(again, "hello"))["can_post"] is False
    for comm in (a, b, again):
        await comm.disconnect()


async def test_live_model_events_are_relayed_as_event_frames(public_repo):
    from models_app.repos.events import publish_live

    a = socket(public_repo)
    await a.connect()
    await receive_type(a, "hello")
    await sync_to_async(publish_live)(public_repo.pk, "validation.progress", {"stage": "fine-tune", "progress": 0.5})
    assert await receive_type(a, "event") == {
        "type": "event",
        "event": "validation.progress",
        "data": {"stage": "fine-tune", "progress": 0.5},
    }
    await a.disconnect()


async def test_a_refusal_names_the_frame_and_client_id_it_answers(public_repo, tokens, settings):
    a = socket(public_repo, tokens["alice"])
    await a.connect()
    await receive_type(a, "hello")
    await a.send_json_to({"type": "message", "body": "x" * 4001, "client_id": "draft-1"})
    error = await receive_type(a, "error")
    assert error == {
        "type": "error",
        "code": "too_long",
        "message": "A message may have at most 4000 characters; this one has 4001.",
        "for": "message",
        "client_id": "draft-1",
    }
    settings.HUB_CHAT_RATE_MESSAGES = 1
    await a.send_json_to({"type": "message", "body": "first", "client_id": "c1"})
    assert (await receive_type(a, "message"))["client_id"] == "c1"
    await a.send_json_to({"type": "message", "body": "second", "client_id": "c2"})
    error = await receive_type(a, "error")
    assert error["code"] == "rate_limited" and error["client_id"] == "c2" and "Slow down" in error["message"]
    await a.disconnect()


async def test_reactions_reach_every_socket_and_toggle(public_repo, tokens):
    a, b = socket(public_repo, tokens["alice"]), socket(public_repo, tokens["bob"])
    await a.connect()
    await b.connect()
    await receive_type(a, "hello")
    await receive_type(b, "hello")
    await a.send_json_to({"type": "message", "body": "ship it"})
    assert (await receive_type(b, "message"))["reactions"] == []
    await receive_type(a, "message")
    await b.send_json_to({"type": "react", "id": 1, "emoji": ":tada:"})
    expected = {"type": "reaction", "id": 1, "reactions": [{"emoji": "🎉", "count": 1, "users": ["bob"]}]}
    assert await receive_type(a, "reaction") == expected
    assert await receive_type(b, "reaction") == expected
    await b.send_json_to({"type": "react", "id": 1, "emoji": "🎉"})
    assert (await receive_type(a, "reaction"))["reactions"] == []
    assert (await receive_type(b, "reaction"))["reactions"] == []
    await b.send_json_to({"type": "react", "id": 1, "emoji": "bogus", "client_id": "r1"})
    error = await receive_type(b, "error")
    assert error["code"] == "invalid" and error["for"] == "react"
    await a.disconnect()
    await b.disconnect()


async def test_anonymous_readers_cannot_react(public_repo, tokens):
    a, anon = socket(public_repo, tokens["alice"]), socket(public_repo)
    await a.connect()
    await anon.connect()
    await receive_type(a, "hello")
    await receive_type(anon, "hello")
    await a.send_json_to({"type": "message", "body": "hi"})
    await receive_type(anon, "message")
    await anon.send_json_to({"type": "react", "id": 1, "emoji": "👍"})
    assert (await receive_type(anon, "error"))["code"] == "not_allowed"
    await anon.send_json_to({"type": "read", "id": 1})
    assert (await receive_type(anon, "error"))["code"] == "not_allowed"
    await a.disconnect()
    await anon.disconnect()


async def test_opening_the_room_reads_it_and_hello_tells_where_new_messages_begin(public_repo, tokens):
    a = socket(public_repo, tokens["alice"])
    await a.connect()
    assert (await receive_type(a, "hello"))["last_read"] is None  # her first visit
    for n in range(3):
        await a.send_json_to({"type": "message", "body": f"@bob m{n}"})
        await receive_type(a, "message")
    b = socket(public_repo, tokens["bob"])
    await b.connect()
    assert (await receive_type(b, "hello"))["last_read"] is None
    bob = await database_sync_to_async(lambda: User.objects.get(username="bob"))()
    assert await database_sync_to_async(reading.unread_rooms)(bob) == []  # opened: read, mentions too
    await b.disconnect()

    await a.send_json_to({"type": "message", "body": "while bob was away"})
    await receive_type(a, "message")
    unread = await database_sync_to_async(reading.unread_rooms)(bob)
    assert [(r["room"], r["unread"]) for r in unread] == [("alice/tiny-bert", 1)]
    b = socket(public_repo, tokens["bob"])
    await b.connect()
    assert (await receive_type(b, "hello"))["last_read"] == 3
    assert await database_sync_to_async(reading.unread_rooms)(bob) == []
    await a.send_json_to({"type": "message", "body": "live"})
    assert (await receive_type(b, "message"))["id"] == 5
    await b.send_json_to({"type": "read", "id": 5})
    assert await receive_type(b, "read") == {"type": "read", "last_read": 5}
    await a.disconnect()
    await b.disconnect()


async def test_a_read_token_keeps_its_users_place(public_repo, owner, other_user, tokens):
    from hub.tokens import token_create

    _, raw = await database_sync_to_async(token_create)(other_user, "reader", "read")
    r = socket(public_repo, raw)
    await r.connect()
    await receive_type(r, "hello")
    await r.send_json_to({"type": "read", "id": 0})
    assert await receive_type(r, "read") == {"type": "read", "last_read": 0}
    await r.send_json_to({"type": "react", "id": 1, "emoji": "👍"})
    assert (await receive_type(r, "error"))["code"] == "read_only"
    await r.disconnect()
