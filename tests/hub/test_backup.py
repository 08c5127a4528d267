"""Backup and restore as docs/operations.md gives them: the database dump, then the blob store.

The restore goes into a fresh database and a fresh data folder; a second hub
started on them serves the file with the same bytes (sha256), and the token made
before the backup still works.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess

import httpx
import pytest

from tests.live import LiveHub

pytestmark = [pytest.mark.live, pytest.mark.slow]


def sh(command: str, env: dict) -> None:
    """Run a command line of the docs as an operator would (the variables come from the hub's environment)."""
    subprocess.run(["bash", "-euo", "pipefail", "-c", command], env=env, check=True, timeout=300)


def backup(hub: LiveHub, dest) -> None:
    env = {**hub.env, "BACKUP": str(dest)}
    sh('mkdir -p "$BACKUP"', env)
    if env.get("DATABASE_URL"):
        sh('pg_dump --format=custom --file="$BACKUP/hub.dump" "$DATABASE_URL"', env)
    else:
        sh('sqlite3 "$HUB_DATA_DIR/db.sqlite3" ".backup \'$BACKUP/db.sqlite3\'"', env)
    # After the dump: blobs are immutable and named by their sha256, so every blob the dump names is here.
    sh("rsync -a --include='/blobs/***' --include='/xet/***' --exclude='*' \"$HUB_DATA_DIR/\" \"$BACKUP/files/\"", env)


def restore(hub: LiveHub, source) -> None:
    """Into ``hub``'s fresh database and data folder, before it starts."""
    env = {**hub.env, "BACKUP": str(source)}
    sh('mkdir -p "$HUB_DATA_DIR"', env)
    if env.get("DATABASE_URL"):
        sh('pg_restore --no-owner --exit-on-error --dbname="$DATABASE_URL" "$BACKUP/hub.dump"', env)
    else:
        sh('cp "$BACKUP/db.sqlite3" "$HUB_DATA_DIR/db.sqlite3"', env)
    sh('rsync -a "$BACKUP/files/" "$HUB_DATA_DIR/"', env)


@pytest.fixture
def tools():
    needed = ["rsync", "pg_dump", "pg_restore"] if os.environ.get("DATABASE_URL") else ["rsync", "sqlite3"]
    missing = [name for name in needed if not shutil.which(name)]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install rsync sqlite3 postgresql-client)")


def test_restore_into_a_fresh_database_and_store_serves_the_same_bytes(tmp_path, tools):
    weights = os.urandom(300_000)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(weights)
    (folder / "README.md").write_text("# kept\n")

    with LiveHub(tmp_path / "before") as original:
        token = original.create_token("rhea", "write")
        original.manage("publish_folder", "rhea/kept-bert", str(folder), "--private")
        backup(original, tmp_path / "backup")

    restored = LiveHub(tmp_path / "after")  # its own, empty database and data folder
    restore(restored, tmp_path / "backup")
    with restored:
        answer = httpx.get(
            f"{restored.url}/rhea/kept-bert/resolve/main/model.safetensors",
            headers={"Authorization": f"Bearer {token}"},
            follow_redirects=True,
        )
        assert answer.status_code == 200
        assert hashlib.sha256(answer.content).hexdigest() == hashlib.sha256(weights).hexdigest()
        anonymous = httpx.get(f"{restored.url}/rhea/kept-bert/resolve/main/model.safetensors")
        assert anonymous.status_code in (401, 404)  # still private
