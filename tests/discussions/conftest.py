"""Fixtures for the discussion rooms: models owned by alice, and a socket helper."""

from __future__ import annotations

import json

import pytest
from channels.testing import WebsocketCommunicator

from hub.asgi import application
from hub.models import User
from hub.tokens import token_create
from models_app.models import ModelRepo


@pytest.fixture
def public_repo(owner) -> ModelRepo:
    return ModelRepo.objects.create(owner=owner, name="tiny-bert")


@pytest.fixture
def private_repo(owner) -> ModelRepo:
    return ModelRepo.objects.create(owner=owner, name="secret-bert", private=True)


@pytest.fixture
def carol(db) -> User:
    return User.objects.create_user("carol", "carol@example.org", "correct-horse-battery")


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user("sam", "sam@example.org", "correct-horse-battery", is_staff=True)


@pytest.fixture(autouse=True)
def _in_memory_layer(settings):
    # Unit tests run in one process: the in-memory layer is enough and leaves no files.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.HUB_CHAT_RATE_MESSAGES = 50


@pytest.fixture
def tokens(owner, other_user, carol, staff) -> dict[str, str]:
    """A write token per actor, by username (sockets authenticate with them)."""
    return {u.username: token_create(u, "ws", "write")[1] for u in (owner, other_user, carol, staff)}


def socket(repo: ModelRepo | str, token: str | None = None, origin: str | None = "http://testserver"):
    """A communicator for ``repo``'s room with ``token`` (anonymous when None), like a page on this site."""
    path = repo if isinstance(repo, str) else f"/ws/models/{repo.owner.username}/{repo.name}/"
    headers = [(b"host", b"testserver")]
    if origin:
        headers.append((b"origin", origin.encode()))
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    return WebsocketCommunicator(application, path, headers=headers)


async def receive_type(comm: WebsocketCommunicator, kind: str, timeout: float = 5) -> dict:
    """The next frame of type ``kind``, skipping presence and typing frames on the way."""
    while True:
        frame = json.loads(await comm.receive_from(timeout=timeout))
        if frame["type"] == kind:
            return frame
        if frame["type"] not in ("presence", "typing"):
            raise AssertionError(f"expected a {kind!r} frame, got {frame}")
