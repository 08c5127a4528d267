"""Room rules called directly: posting, limits, moderation, mentions, history, the hub's own messages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from discussions import reading, rooms
from discussions.models import Mention, Message
from models_app.models import Revision
from models_app.repos.events import announce_revision, validation_finished

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def room(public_repo):
    return rooms.room_for(public_repo)


def test_ids_count_up_within_each_room(room, owner, private_repo):
    other = rooms.room_for(private_repo)
    assert [rooms.message_post(room, owner, f"m{n}").seq for n in range(3)] == [1, 2, 3]
    assert rooms.message_post(other, owner, "elsewhere").seq == 1


def test_limits_and_anonymous(room, owner):
    with pytest.raises(rooms.RoomError) as err:
        rooms.message_post(room, AnonymousUser(), "hi")
    assert err.value.code == "not_allowed"
    for body, code in [("", "invalid"), ("   ", "invalid"), (None, "invalid"), ("x" * 4001, "too_long")]:
        with pytest.raises(rooms.RoomError) as err:
            rooms.message_post(room, owner, body)
        assert err.value.code == code
    assert rooms.message_post(room, owner, "x" * 4000).seq == 1


def test_rate_limit_names_the_limit(room, owner, settings):
    settings.HUB_CHAT_RATE_MESSAGES = 3
    for n in range(3):
        rooms.message_post(room, owner, f"m{n}")
    with pytest.raises(rooms.RoomError) as err:
        rooms.message_post(room, owner, "one too many")
    assert err.value.code == "rate_limited" and "at most 3 messages per 10 seconds" in err.value.message
    assert Message.objects.count() == 3


def test_moderation_owner_and_staff_delete_any_ban_only_by_moderators(room, owner, other_user, staff, carol):
    mine = rooms.message_post(room, other_user, "bob's")
    with pytest.raises(rooms.RoomError):
        rooms.message_delete(room, carol, mine.seq)
    assert rooms.message_delete(room, owner, mine.seq).deleted is not None
    second = rooms.message_post(room, other_user, "again")
    assert rooms.message_delete(room, staff, second.seq).deleted is not None
    with pytest.raises(rooms.RoomError):
        rooms.room_ban(room, carol, "bob", 10)
    rooms.room_ban(room, owner, "bob", 10)
    assert rooms.can_post(other_user, room) is False
    with pytest.raises(rooms.RoomError) as err:
        rooms.message_post(room, other_user, "still here?")
    assert err.value.code == "not_allowed"
    rooms.room_ban(room, staff, "bob", 0)
    assert rooms.message_post(room, other_user, "back").seq == 3


def test_mentions_link_and_count_as_unread_until_the_room_is_opened(room, owner, other_user, carol):
    message = rooms.message_post(room, owner, "@bob and @carol, not @alice or @ghost")
    assert '<a href="/bob" class="mention"' in message.html and "@ghost" in message.html
    assert rooms.unread_mentions(other_user) == 1 and rooms.unread_mentions(carol) == 1
    assert rooms.unread_mentions(owner) == 0
    reading.room_mark_read(other_user, room)
    assert rooms.unread_mentions(other_user) == 0 and Mention.objects.filter(read=False).count() == 1


def test_history_pages_by_id(room, owner, settings):
    settings.HUB_CHAT_RATE_MESSAGES = 100
    for n in range(1, 8):
        rooms.message_post(room, owner, f"m{n}")
    assert [m["id"] for m in rooms.history(room, limit=3)] == [5, 6, 7]
    assert [m["id"] for m in rooms.history(room, before=5, limit=3)] == [2, 3, 4]
    assert [m["id"] for m in rooms.history(room, after=5)] == [6, 7]
    with pytest.raises(rooms.RoomError):
        rooms.history(room, after="x")


def test_new_revision_is_posted_after_commit(public_repo, owner):
    with transaction.atomic():
        revision = Revision.objects.create(repo=public_repo, sha="ab" * 20, message="Add weights", author=owner)
        announce_revision(revision, created_by=owner)
        assert not Message.objects.exists()  # nothing before the commit
    message = Message.objects.get()
    assert message.kind == "system" and message.author is None
    assert message.body == "New revision `abababab` by alice: Add weights"
    assert Mention.objects.count() == 0


def test_validation_verdict_is_posted(public_repo, owner):
    from models_app.validation.models import ValidationRun

    revision = Revision.objects.create(repo=public_repo, sha="cd" * 20, author=owner)
    run = ValidationRun.objects.create(
        revision=revision, suite="text", status="passed",
        metrics={"suite": {"metric": "accuracy", "tasks": 3, "finetuned": 0.8125, "scratch": 0.6, "gain": 0.2125}},
    )  # fmt: skip
    validation_finished.send(sender=ValidationRun, run=run)
    message = Message.objects.get()
    assert message.kind == "system"
    assert message.body.startswith(
        "Validation of cdcdcdcd: passed the text classification suite, mean accuracy 81.2% over 3 tasks, "
        "+21.2 pts over scratch."
    )
    assert f"(/{public_repo.owner.username}/{public_repo.name}/validation)" in message.body
