"""API tokens: scopes, revocation, expiry, hashing, and the HF whoami shape."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from hub.models import ApiToken
from hub.tokens import token_create, token_revoke

ROOT = Path(__file__).resolve().parents[2]


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_whoami_answers_in_the_hugging_face_shape(owner):
    _, raw = token_create(owner, "laptop", ApiToken.Scope.WRITE)
    response = bearer(raw).get("/api/whoami-v2")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "alice" and body["type"] == "user"
    assert body["auth"]["accessToken"]["role"] == "write"


def test_read_token_role_is_read(owner):
    _, raw = token_create(owner, "ci", ApiToken.Scope.READ)
    assert bearer(raw).get("/api/whoami-v2").json()["auth"]["accessToken"]["role"] == "read"


def test_no_raw_token_is_stored(owner):
    token, raw = token_create(owner, "laptop", ApiToken.Scope.WRITE)
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in {str(value) for value in stored.values()}
    assert raw.startswith(stored["prefix"]) and len(stored["prefix"]) < len(raw) / 3


@pytest.mark.parametrize(
    "spoil, message",
    [
        (lambda t: token_revoke(t), "revoked"),
        (lambda t: ApiToken.objects.filter(pk=t.pk).update(expires=timezone.now() - timedelta(seconds=1)), "expired"),
    ],
)
def test_revoked_or_expired_token_is_refused_with_json(owner, spoil, message):
    token, raw = token_create(owner, "laptop", ApiToken.Scope.WRITE)
    spoil(token)
    response = bearer(raw).get("/api/whoami-v2")
    assert response.status_code == 401
    assert message in response.json()["error"]


def test_wrong_token_is_refused_and_missing_token_is_401(db):
    response = bearer("thub_not-a-real-token").get("/api/whoami-v2")
    assert response.status_code == 401 and response.json()["error"] == "Invalid token."
    assert APIClient().get("/api/whoami-v2").status_code == 401


def test_create_token_command_prints_only_the_token(tmp_path):
    # Runs as a user would, against a scratch database.
    env = {"HUB_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    result = subprocess.run(
        [sys.executable, "manage.py", "create_token", "carol", "--scope", "write", "--create-user"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("thub_") and len(result.stdout.strip().splitlines()) == 1
    missing = subprocess.run(
        [sys.executable, "manage.py", "create_token", "nobody"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode != 0 and "--create-user" in missing.stderr


def test_tokens_page_creates_and_revokes(client, owner):
    client.force_login(owner)
    page = client.post("/settings/tokens/", {"name": "deploy", "scope": "write"})
    assert page.status_code == 200
    raw = page.context["new_token"]
    assert raw in page.content.decode()
    token = ApiToken.objects.get(user=owner, name="deploy")
    assert bearer(raw).get("/api/whoami-v2").status_code == 200
    client.post(f"/settings/tokens/{token.pk}/revoke/")
    assert bearer(raw).get("/api/whoami-v2").status_code == 401
