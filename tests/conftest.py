"""Shared fixtures: named actors, API clients, and guards for real services."""

from __future__ import annotations

import os
import shutil

import pytest
from rest_framework.test import APIClient

from hub.models import ApiToken, User
from hub.tokens import token_create
from tests.live import LiveHub, free_port  # noqa: F401 - re-exported for tests

# Fixtures of the validation jobs tests (a plugin module, so each part keeps its own file).
pytest_plugins = ["tests.validation.jobs_fixtures"]


@pytest.fixture
def owner(db) -> User:
    return User.objects.create_user("alice", "alice@example.org", "correct-horse-battery")


@pytest.fixture
def other_user(db) -> User:
    return User.objects.create_user("bob", "bob@example.org", "correct-horse-battery")


def _token_client(user: User, scope: str) -> APIClient:
    _, raw = token_create(user, f"{scope}-token", scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.raw_token = raw
    return client


@pytest.fixture
def write_client(owner) -> APIClient:
    return _token_client(owner, ApiToken.Scope.WRITE)


@pytest.fixture
def read_client(owner) -> APIClient:
    return _token_client(owner, ApiToken.Scope.READ)


@pytest.fixture
def other_client(other_user) -> APIClient:
    return _token_client(other_user, ApiToken.Scope.WRITE)


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture(scope="session")
def live_hub(tmp_path_factory):
    """One real hub (uvicorn, no worker) on loopback for the whole session."""
    with LiveHub(tmp_path_factory.mktemp("live-hub")) as hub:
        yield hub


@pytest.fixture
def redis_url() -> str:
    """The real Redis from REDIS_URL; tests that need it skip without it."""
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs Redis: set REDIS_URL (CI's PostgreSQL pass does)")
    return url


@pytest.fixture
def redis_server_binary() -> str:
    path = shutil.which("redis-server")
    if not path:
        pytest.skip("needs the redis-server binary (apt-get install redis-server)")
    return path


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium driven by Playwright (never a downloaded browser); skips when absent."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian chromium at /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield launched
        launched.close()
