"""REST: a room's history and the unread-mentions count."""

from __future__ import annotations

import pytest

from discussions import rooms

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


def test_unread_mentions(other_client, anon_client, public_repo, owner):
    rooms.message_post(rooms.room_for(public_repo), owner, "hey @bob")
    assert other_client.get("/api/mentions/unread").json() == {"unread": 1}
    assert anon_client.get("/api/mentions/unread").status_code == 401


def test_history_is_in_the_openapi_schema(anon_client):
    schema = anon_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/models/{owner}/{name}/messages" in schema["paths"]
    assert "/api/mentions/unread" in schema["paths"]


def test_room_page_is_a_tab_of_the_model_page(client, public_repo, private_repo, other_user):
    page = client.get("/alice/tiny-bert/discussion")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-ws-path="/ws/models/alice/tiny-bert/"' in html and 'href="/alice/tiny-bert"' in html
    assert "js/room.js" in html and "Log in</a> to post" in html
    assert client.get("/alice/secret-bert/discussion").status_code == 404
    client.force_login(other_user)
    assert "composer-body" in client.get("/alice/tiny-bert/discussion").content.decode()
