"""One discussion room per model: messages, reactions, bans, presence, read marks and unread mentions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from models_app.models import ModelRepo


class Room(models.Model):
    repo = models.OneToOneField(ModelRepo, on_delete=models.CASCADE, related_name="room")
    # The newest message's ``seq``; bumped under a row lock so ids in a room
    # are gap-free and follow commit order (clients detect a gap and resync).
    last_seq = models.BigIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"room of {self.repo_id}"


class Thread(models.Model):
    """A discussion or a pull request (the HF hub's Community tab), as a thread of the model's room.

    Its comments and events are the room's own messages (``Message.thread``), so history, edits,
    moderation and rate limits are the room's. ``num`` comes from the repo's one number space
    (models_app.repos.revisions.next_discussion_num); a pull request's ref is refs/pr/<num>.
    """

    class Status(models.TextChoices):
        OPEN = "open"
        CLOSED = "closed"
        MERGED = "merged"
        DRAFT = "draft"

    # What "open" means to a reader: as on the HF hub, a draft pull request is open, only not ready yet.
    OPEN_STATUSES = (Status.OPEN, Status.DRAFT)

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="threads")
    num = models.IntegerField()
    is_pull_request = models.BooleanField(default=False)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created = models.DateTimeField(default=timezone.now)
    # Pull requests only: the branch it merges into, that branch's tip when it opened (the merge
    # base), and the revision the merge made.
    target_branch = models.CharField(max_length=255, blank=True)
    base_sha = models.CharField(max_length=40, blank=True)
    merge_sha = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "num"], name="thread_room_num_unique")]
        ordering = ["room", "-num"]

    def __str__(self) -> str:
        return f"{self.room_id}#{self.num}"

    @property
    def label(self) -> str:
        return f"#{self.num} {self.title}"


class Message(models.Model):
    class Kind(models.TextChoices):
        USER = "user"
        SYSTEM = "system"

    class Event(models.TextChoices):
        COMMENT = ""
        STATUS_CHANGE = "status-change"
        TITLE_CHANGE = "title-change"
        COMMIT = "commit"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    # The message id users see: 1, 2, 3... within its room.
    seq = models.BigIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.USER)
    body = models.TextField(blank=True)
    html = models.TextField(blank=True)
    client_id = models.CharField(max_length=64, blank=True)
    reply_to = models.BigIntegerField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    edited = models.DateTimeField(null=True, blank=True)
    deleted = models.DateTimeField(null=True, blank=True)
    num_edits = models.IntegerField(default=0)
    # A message of a discussion or pull request: a comment (event "") or an event of the thread,
    # with the event's facts in ``data`` (a status, the old and new title, a commit's oid).
    thread = models.ForeignKey(Thread, null=True, blank=True, on_delete=models.CASCADE, related_name="messages")
    event = models.CharField(max_length=16, blank=True, default="", choices=Event.choices)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "seq"], name="message_room_seq_unique")]
        ordering = ["room", "seq"]

    def __str__(self) -> str:
        return f"{self.room_id}#{self.seq}"


class RoomBan(models.Model):
    """A user who may read the room but not post in it until ``until``."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="bans")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    until = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="roomban_room_user_unique")]


class Mention(models.Model):
    """``@username`` in a message; unread until the user opens the room."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mentions")
    read = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "message"], name="mention_user_message_unique")]
        indexes = [models.Index(fields=["user", "read"])]


class Presence(models.Model):
    """One open socket of a logged-in user; ``seen`` is refreshed by its web process."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="presences")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    conn = models.CharField(max_length=64, unique=True)
    process = models.CharField(max_length=64, db_index=True)
    seen = models.DateTimeField(default=timezone.now)


class Reaction(models.Model):
    """One user's emoji on one message; toggled by posting the same emoji again."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # One emoji, stored as its characters (a sequence such as a flag or a skin tone is several code points).
    emoji = models.CharField(max_length=32)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user", "emoji"], name="reaction_message_user_emoji_unique")
        ]
        ordering = ["message", "created", "pk"]


class RoomRead(models.Model):
    """How far one user has read one room: the "last read" mark, server side so it follows them across devices.

    A row also means the user follows the room: its unread count appears behind
    the header's badge. It is created the first time they open the room.
    """

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_reads")
    last_read = models.BigIntegerField(default=0)  # the seq of the newest message read
    updated = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="roomread_room_user_unique")]


class Report(models.Model):
    """A visitor's report of a model, a file, a discussion or a message, for the people who run the site.

    Reporters see only that their report was received; the queue lives in the admin.
    """

    class Kind(models.TextChoices):
        MODEL = "model"
        FILE = "file"
        DISCUSSION = "discussion"
        MESSAGE = "message"

    class Status(models.TextChoices):
        OPEN = "open"
        RESOLVED = "resolved"  # acted on
        DISMISSED = "dismissed"  # nothing to do

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    repo = models.ForeignKey("models_app.ModelRepo", on_delete=models.CASCADE, related_name="reports")
    path = models.CharField(max_length=255, blank=True)  # a file's path, for kind=file
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    reason = models.TextField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"report #{self.pk}: {self.target}"

    @property
    def target(self) -> str:
        where = self.repo.repo_id if self.repo_id else "?"
        if self.kind == self.Kind.FILE:
            return f"file {where}/{self.path}"
        if self.kind == self.Kind.MESSAGE:
            return f"message {where}#{self.message.seq if self.message else '?'}"
        return f"{self.kind} {where}"
