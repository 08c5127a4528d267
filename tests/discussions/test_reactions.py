"""Reactions called directly: one emoji per toggle, per user, counted; who may react."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from discussions import reactions, rooms
from discussions.models import Reaction

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def room(public_repo, owner):
    room = rooms.room_for(public_repo)
    rooms.message_post(room, owner, "ship it")
    return room


def test_a_reaction_toggles_per_user_and_counts(room, owner, other_user, carol):
    assert reactions.reaction_toggle(room, other_user, 1, "👍") == [{"emoji": "👍", "count": 1, "users": ["bob"]}]
    reactions.reaction_toggle(room, carol, 1, ":thumbsup:")
    summary = reactions.reaction_toggle(room, owner, 1, ":tada:")
    assert summary == [
        {"emoji": "👍", "count": 2, "users": ["bob", "carol"]},
        {"emoji": "🎉", "count": 1, "users": ["alice"]},
    ]
    # bob takes his back; carol's stays.
    assert reactions.reaction_toggle(room, other_user, 1, "👍")[0] == {"emoji": "👍", "count": 1, "users": ["carol"]}
    assert Reaction.objects.count() == 2


@pytest.mark.parametrize("value", ["", "hi", "👍👍", ":not_an_emoji:", "👍 ok", None, 7, "x" * 40])
def test_a_reaction_is_exactly_one_emoji(room, other_user, value):
    with pytest.raises(rooms.RoomError) as err:
        reactions.reaction_toggle(room, other_user, 1, value)
    assert err.value.code == "invalid" and "one emoji" in err.value.message


def test_anonymous_and_banned_users_cannot_react(room, owner, other_user):
    with pytest.raises(rooms.RoomError) as err:
        reactions.reaction_toggle(room, AnonymousUser(), 1, "👍")
    assert err.value.code == "not_allowed"
    rooms.room_ban(room, owner, "bob", 10)
    with pytest.raises(rooms.RoomError) as err:
        reactions.reaction_toggle(room, other_user, 1, "👍")
    assert err.value.code == "not_allowed"


def test_no_reactions_on_deleted_or_missing_messages(room, owner, other_user):
    rooms.message_delete(room, owner, 1)
    for seq in (1, 2, "1"):
        with pytest.raises(rooms.RoomError) as err:
            reactions.reaction_toggle(room, other_user, seq, "👍")
        assert err.value.code == "invalid"


def test_the_kinds_of_reaction_on_one_message_are_bounded(room, other_user, carol, monkeypatch):
    monkeypatch.setattr(reactions, "MAX_KINDS", 2)
    reactions.reaction_toggle(room, other_user, 1, "👍")
    reactions.reaction_toggle(room, other_user, 1, "🎉")
    with pytest.raises(rooms.RoomError):
        reactions.reaction_toggle(room, other_user, 1, "🚀")
    assert reactions.reaction_toggle(room, carol, 1, "🎉")[1]["count"] == 2  # an existing kind is still fine


def test_history_reads_reactions_in_a_fixed_number_of_queries(room, owner, other_user, django_assert_num_queries):
    for n in range(5):
        rooms.message_post(room, owner, f"m{n}")
        reactions.reaction_toggle(room, other_user, n + 2, "👍")
    with django_assert_num_queries(2):  # the messages with their authors, the reactions with their users
        frames = rooms.history(room)
    assert [len(f["reactions"]) for f in frames] == [0, 1, 1, 1, 1, 1]
