"""The real hf_xet client (no environment switches) uploading to a live hub on loopback."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.live import ROOT, LiveHub

pytest.importorskip("hf_xet", reason="needs hf_xet, a default dependency of huggingface_hub")

BIG = 70 * 1024 * 1024  # over one 64 MiB xorb


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with LiveHub(tmp_path_factory.mktemp("xet-hub")) as live:
        live.token = live.create_token("alice", "write")
        live.read_token = live.create_token("alice", "read")
        live.manage(
            "shell",
            "-c",
            "from hub.models import User; from models_app.repos.rules import repo_create; "
            "repo_create(User.objects.get(username='alice'), 'weights')",
        )
        yield live


def upload(hub: LiveHub, token: str, paths: list[Path], cache: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env["HF_XET_CACHE"] = str(cache)
    url = f"{hub.url}/api/models/alice/weights/xet-write-token/main"
    return subprocess.run(
        [sys.executable, "-m", "tests.xet.xet_client", url, token, *map(str, paths)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def xorb_bytes(hub: LiveHub) -> int:
    return sum(p.stat().st_size for p in (hub.data_dir / "xet" / "xorbs").rglob("*.xorb"))


def test_files_arrive_byte_identical_and_a_small_edit_uploads_little(hub, tmp_path):
    rng = np.random.default_rng(11)
    weights = bytearray(rng.bytes(BIG))
    (tmp_path / "model.safetensors").write_bytes(weights)
    (tmp_path / "config.json").write_text('{"hidden_size": 32}\n')
    cache = tmp_path / "xet-cache"

    result = upload(hub, hub.token, [tmp_path / "model.safetensors", tmp_path / "config.json"], cache)
    assert result.returncode == 0, result.stderr[-3000:] + hub.log("web")[-3000:]
    reported = [json.loads(line) for line in result.stdout.splitlines()]
    for path, info in zip([tmp_path / "model.safetensors", tmp_path / "config.json"], reported, strict=True):
        assert info["sha256"] == file_sha256(path)
        assert file_sha256(hub.blob_path(info["sha256"])) == info["sha256"]
    first_upload = xorb_bytes(hub)
    assert first_upload >= BIG  # random bytes do not compress

    # Second revision: 100 bytes changed in the middle of the weights.
    weights[BIG // 2 : BIG // 2 + 100] = b"\x00" * 100
    (tmp_path / "model.safetensors").write_bytes(weights)
    result = upload(hub, hub.token, [tmp_path / "model.safetensors"], cache)
    assert result.returncode == 0, result.stderr[-3000:]
    sha = json.loads(result.stdout.splitlines()[0])["sha256"]
    assert sha == hashlib.sha256(weights).hexdigest()
    assert file_sha256(hub.blob_path(sha)) == sha
    second_upload = xorb_bytes(hub) - first_upload
    print(f"\nsecond revision uploaded {second_upload:,} bytes of a {BIG:,}-byte file")
    assert second_upload < BIG // 50


def test_a_read_token_cannot_upload(hub, tmp_path):
    (tmp_path / "notes.txt").write_text("read tokens do not write\n")
    before = xorb_bytes(hub)
    result = upload(hub, hub.read_token, [tmp_path / "notes.txt"], tmp_path / "cache")
    assert result.returncode != 0
    assert "403" in result.stderr or "Forbidden" in result.stderr or "read-only" in result.stderr
    assert xorb_bytes(hub) == before


def test_the_live_hub_refuses_bad_xorbs_as_they_arrive(hub, xorb_bytes):
    import httpx

    from tests.xet.vectors import XORB_HEX

    answer = httpx.get(
        f"{hub.url}/api/models/alice/weights/xet-write-token/main", headers={"Authorization": f"Bearer {hub.token}"}
    ).json()
    cas = {"Authorization": f"Bearer {answer['accessToken']}"}
    url = f"{answer['casUrl']}/v1/xorbs/default/{XORB_HEX}"
    before = xorb_bytes_on_disk = xorb_bytes_stored(hub)

    tampered = bytearray(xorb_bytes)
    tampered[20_000] ^= 0x40
    response = httpx.post(url, headers=cas, content=bytes(tampered))
    assert response.status_code == 400
    assert "Xorb refused" in response.json()["error"]

    # Announce 80 MiB and send nothing: the hub answers 413 before reading a byte of it.
    assert announce_only(url, cas["Authorization"], 80 * 1024 * 1024).startswith("HTTP/1.1 413")
    assert xorb_bytes_stored(hub) == xorb_bytes_on_disk == before
    assert not list((hub.data_dir / "xet").rglob("*.part"))


def xorb_bytes_stored(hub: LiveHub) -> int:
    return sum(p.stat().st_size for p in (hub.data_dir / "xet").rglob("*") if p.is_file())


def announce_only(url: str, authorization: str, length: int) -> str:
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        head = (
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: {authorization}\r\n"
            f"Content-Length: {length}\r\n\r\n"
        )
        sock.sendall(head.encode())
        return sock.recv(4096).decode("latin-1")
