"""Read marks called directly: per user and room, never moving back; what counts as unread."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from discussions import reading, rooms
from discussions.models import Mention, RoomRead

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def room(public_repo, settings):
    settings.HUB_CHAT_RATE_MESSAGES = 100
    return rooms.room_for(public_repo)


def unread(user) -> dict[str, tuple[int, int]]:
    return {r["room"]: (r["unread"], r["mentions"]) for r in reading.unread_rooms(user)}


def test_the_first_visit_starts_following_and_returns_no_previous_mark(room, owner, other_user):
    rooms.message_post(room, owner, "before bob came")
    assert reading.room_mark_read(other_user, room) == (None, 1)
    assert RoomRead.objects.get(user=other_user).last_read == 1
    assert unread(other_user) == {}
    rooms.message_post(room, owner, "one")
    rooms.system_post(room.repo, "the hub speaks")  # counts: people want to see verdicts
    rooms.message_post(room, other_user, "mine")  # never unread
    rooms.message_post(room, owner, "deleted")
    rooms.message_delete(room, owner, 5)
    assert unread(other_user) == {"alice/tiny-bert": (2, 0)}
    assert reading.room_mark_read(other_user, room).before == 1  # where "new messages" begins on the page
    assert unread(other_user) == {}


def test_the_mark_moves_forward_only_and_stops_at_the_newest_message(room, owner, other_user):
    for n in range(4):
        rooms.message_post(room, owner, f"m{n}")
    reading.room_mark_read(other_user, room, upto=2)
    assert unread(other_user) == {"alice/tiny-bert": (2, 0)}
    # An older tab reports late: the mark stays.
    assert reading.room_mark_read(other_user, room, upto=1) == (2, 2)
    assert RoomRead.objects.get(user=other_user).last_read == 2
    reading.room_mark_read(other_user, room, upto=99)
    assert RoomRead.objects.get(user=other_user).last_read == 4


def test_mentions_clear_with_the_messages_read(room, owner, other_user):
    reading.room_mark_read(other_user, room)
    rooms.message_post(room, owner, "@bob one")
    rooms.message_post(room, owner, "@bob two")
    assert unread(other_user) == {"alice/tiny-bert": (2, 2)}
    reading.room_mark_read(other_user, room, upto=1)
    assert unread(other_user) == {"alice/tiny-bert": (1, 1)}
    assert Mention.objects.filter(user=other_user, read=False).count() == 1


def test_marks_are_per_user_and_per_room(room, owner, other_user, carol, private_repo):
    other = rooms.room_for(private_repo)
    for user in (other_user, carol):
        reading.room_mark_read(user, room)
    reading.room_mark_read(owner, other)
    rooms.message_post(room, owner, "hi")
    rooms.message_post(other, owner, "private")
    reading.room_mark_read(carol, room)
    assert unread(other_user) == {"alice/tiny-bert": (1, 0)}
    assert unread(carol) == {}
    assert unread(owner) == {}  # her own messages


def test_anonymous_readers_have_no_mark(room):
    with pytest.raises(rooms.RoomError) as err:
        reading.room_mark_read(AnonymousUser(), room)
    assert err.value.code == "not_allowed" and RoomRead.objects.count() == 0


def test_a_bad_id_is_refused(room, other_user):
    with pytest.raises(rooms.RoomError):
        reading.room_mark_read(other_user, room, upto="abc")


def test_the_unread_list_costs_the_same_queries_for_one_room_or_many(
    owner, other_user, settings, django_assert_num_queries
):
    from models_app.models import ModelRepo

    settings.HUB_CHAT_RATE_MESSAGES = 100
    for n in range(5):
        room = rooms.room_for(ModelRepo.objects.create(owner=owner, name=f"m{n}"))
        reading.room_mark_read(other_user, room)
        rooms.message_post(room, owner, f"news {n} for @bob")
    with django_assert_num_queries(3):  # unread counts, mention counts, the rooms with their repos
        assert len(reading.unread_rooms(other_user)) == 5
