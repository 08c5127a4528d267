"""REST: a room's history and search, the markdown preview, and the unread mentions and rooms."""

from __future__ import annotations

import pytest

from discussions import reactions, reading, rooms

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted(public_repo, owner, settings):
    settings.HUB_CHAT_RATE_MESSAGES = 100
    room = rooms.room_for(public_repo)
    for n in range(1, 6):
        rooms.message_post(room, owner, f"m{n} <script>x</script>")
    return room


def test_history_is_cursor_paged_for_anonymous_readers(anon_client, posted):
    response = anon_client.get("/api/models/alice/tiny-bert/messages?limit=2")
    assert response.status_code == 200
    data = response.json()
    assert data["room"] == "alice/tiny-bert" and data["last_id"] == 5
    assert [m["id"] for m in data["messages"]] == [4, 5]
    assert data["messages"][0]["html"] == "<p>m4 &lt;script&gt;x&lt;/script&gt;</p>\n"
    older = anon_client.get("/api/models/alice/tiny-bert/messages?before=4&limit=2").json()["messages"]
    assert [m["id"] for m in older] == [2, 3]
    newer = anon_client.get("/api/models/alice/tiny-bert/messages?after=3").json()["messages"]
    assert [m["id"] for m in newer] == [4, 5]


def test_bad_cursor_is_a_json_400(anon_client, posted):
    response = anon_client.get("/api/models/alice/tiny-bert/messages?after=abc")
    assert response.status_code == 400 and "whole numbers" in response.json()["error"]


def test_private_room_history_is_404_for_outsiders(anon_client, other_client, write_client, private_repo):
    assert anon_client.get("/api/models/alice/secret-bert/messages").status_code == 404
    assert other_client.get("/api/models/alice/secret-bert/messages").status_code == 404
    assert write_client.get("/api/models/alice/secret-bert/messages").status_code == 200


def test_unread_mentions_and_rooms(other_client, anon_client, public_repo, private_repo, owner, other_user):
    room = rooms.room_for(public_repo)
    rooms.message_post(room, owner, "hey @bob")
    assert other_client.get("/api/mentions/unread").json() == {
        "unread": 1,
        "rooms": [{"room": "alice/tiny-bert", "url": "/alice/tiny-bert/discussion", "unread": 0, "mentions": 1}],
    }
    reading.room_mark_read(other_user, room)  # bob opens the room: he follows it from now on
    rooms.message_post(room, owner, "anyone?")
    rooms.message_post(room, owner, "hello?")
    rooms.message_post(room, other_user, "me")  # his own message is never unread
    assert other_client.get("/api/mentions/unread").json() == {
        "unread": 0,
        "rooms": [{"room": "alice/tiny-bert", "url": "/alice/tiny-bert/discussion", "unread": 2, "mentions": 0}],
    }
    assert anon_client.get("/api/mentions/unread").status_code == 401


def test_unread_rooms_leave_out_a_room_made_private(other_client, public_repo, owner, other_user):
    room = rooms.room_for(public_repo)
    reading.room_mark_read(other_user, room)
    rooms.message_post(room, owner, "psst @bob")
    assert len(other_client.get("/api/mentions/unread").json()["rooms"]) == 1
    public_repo.private = True
    public_repo.save()
    assert other_client.get("/api/mentions/unread").json()["rooms"] == []


def test_search_finds_every_word_newest_page_last_and_skips_deleted(anon_client, public_repo, owner, settings):
    settings.HUB_CHAT_RATE_MESSAGES = 100
    room = rooms.room_for(public_repo)
    for body in ("The LOSS went down", "loss is flat", "accuracy up, loss down", "nothing here", "loss down again"):
        rooms.message_post(room, owner, body)
    rooms.message_delete(room, owner, 5)
    url = "/api/models/alice/tiny-bert/messages"
    found = anon_client.get(url, {"q": "loss down"}).json()["messages"]
    assert [(m["id"], m["body"]) for m in found] == [(1, "The LOSS went down"), (3, "accuracy up, loss down")]
    assert [m["id"] for m in anon_client.get(url, {"q": "loss", "limit": 1}).json()["messages"]] == [3]
    assert [m["id"] for m in anon_client.get(url, {"q": "loss", "before": 3}).json()["messages"]] == [1, 2]
    assert anon_client.get(url, {"q": "absent"}).json()["messages"] == []


def test_search_refuses_an_empty_or_huge_query_with_json(anon_client, public_repo):
    url = "/api/models/alice/tiny-bert/messages"
    for q in ("", "   ", "x" * 201, " ".join("w" * 9)):
        response = anon_client.get(url, {"q": q})
        assert response.status_code == 400 and response.json()["error"]


def test_search_of_a_private_room_is_404_for_outsiders(anon_client, other_client, write_client, private_repo):
    url = "/api/models/alice/secret-bert/messages?q=hi"
    assert anon_client.get(url).status_code == 404 and other_client.get(url).status_code == 404
    assert write_client.get(url).status_code == 200


def test_history_carries_reactions(anon_client, public_repo, owner, other_user):
    room = rooms.room_for(public_repo)
    rooms.message_post(room, owner, "ship it")
    reactions.reaction_toggle(room, other_user, 1, ":tada:")
    reactions.reaction_toggle(room, owner, 1, "🎉")
    message = anon_client.get("/api/models/alice/tiny-bert/messages").json()["messages"][0]
    assert message["reactions"] == [{"emoji": "🎉", "count": 2, "users": ["bob", "alice"]}]


def test_preview_renders_as_the_room_would_and_saves_nothing(write_client, public_repo, other_user):
    url = "/api/models/alice/tiny-bert/messages/preview"
    response = write_client.post(url, {"body": "**hi** @bob :tada: `:tada:` <b>x</b>"}, format="json")
    assert response.status_code == 200
    assert response.json()["html"] == (
        '<p><strong>hi</strong> <a href="/bob" class="mention" rel="nofollow noopener">@bob</a> 🎉 '
        "<code>:tada:</code> &lt;b&gt;x&lt;/b&gt;</p>\n"
    )
    assert rooms.room_for(public_repo).messages.count() == 0


def test_preview_refuses_what_posting_would(write_client, read_client, anon_client, other_client, public_repo):
    url = "/api/models/alice/tiny-bert/messages/preview"
    too_long = write_client.post(url, {"body": "x" * 4001}, format="json")
    assert too_long.status_code == 400 and "at most 4000 characters" in too_long.json()["error"]
    assert write_client.post(url, {"body": ""}, format="json").status_code == 400
    assert write_client.post(url, ["not", "an", "object"], format="json").status_code == 400
    assert read_client.post(url, {"body": "hi"}, format="json").status_code == 403
    assert anon_client.post(url, {"body": "hi"}, format="json").status_code in (401, 403)


def test_preview_of_a_private_room_is_404_for_outsiders(other_client, write_client, private_repo):
    url = "/api/models/alice/secret-bert/messages/preview"
    assert other_client.post(url, {"body": "hi"}, format="json").status_code == 404
    assert write_client.post(url, {"body": "hi"}, format="json").status_code == 200


def test_history_is_in_the_openapi_schema(anon_client):
    schema = anon_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/models/{owner}/{name}/messages" in schema["paths"]
    assert "/api/mentions/unread" in schema["paths"]
    assert "/api/models/{owner}/{name}/messages/preview" in schema["paths"]


def test_room_page_is_a_tab_of_the_model_page(client, public_repo, private_repo, other_user):
    page = client.get("/alice/tiny-bert/discussion")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-ws-path="/ws/models/alice/tiny-bert/"' in html and 'href="/alice/tiny-bert"' in html
    assert "js/room.js" in html and "Log in</a> to post" in html
    assert client.get("/alice/secret-bert/discussion").status_code == 404
    client.force_login(other_user)
    assert "composer-body" in client.get("/alice/tiny-bert/discussion").content.decode()
