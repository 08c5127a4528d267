"""The streaming upload front on a real server: limits stop the body early, a killed upload leaves nothing."""

from __future__ import annotations

import hashlib
import json
import select
import signal
import socket
import time

import pytest

from tests.live import LiveHub
from tests.models_app.multipart_body import BOUNDARY, CONTENT_TYPE, multipart

pytestmark = [pytest.mark.live, pytest.mark.slow]
LIMIT = 16 * 1024 * 1024


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    env = {"HUB_MAX_FILE_SIZE": str(LIMIT), "HUB_USER_QUOTA": str(1024**3)}
    with LiveHub(tmp_path_factory.mktemp("stream-hub"), extra_env=env) as live:
        live.token = live.create_token("alice", "write")
        live.read_token = live.create_token("alice", "read")
        yield live


def request(hub: LiveHub, method: str, path: str, body: bytes = b"", headers: dict | None = None, token=None):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=60)
    all_headers = {"Authorization": f"Bearer {token or hub.token}", **(headers or {})}
    conn.request(method, path, body=body, headers=all_headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, json.loads(data) if data else None


def create_repo(hub: LiveHub, name: str, **extra) -> None:
    status, body = request(
        hub, "POST", "/api/models", json.dumps({"name": name, **extra}).encode(), {"Content-Type": "application/json"}
    )
    assert status == 201, body


def temp_files(hub: LiveHub) -> list:
    return [p for p in (hub.data_dir / "tmp").iterdir()]


def blob_files(hub: LiveHub) -> list:
    root = hub.data_dir / "blobs"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_three_file_upload_is_streamed_into_a_revision(hub):
    create_repo(hub, "streamed")
    files = {"config.json": b"{}", "model.safetensors": b"w" * 3_000_000, "tokenizer/vocab.txt": b"[PAD]\n"}
    status, body = request(
        hub, "POST", "/api/models/alice/streamed/upload", multipart(files, message="m1"), {"Content-Type": CONTENT_TYPE}
    )
    assert status == 201, body
    assert {f["path"]: f["sha256"] for f in body["manifest"]} == {
        p: hashlib.sha256(d).hexdigest() for p, d in files.items()
    }
    status, again = request(
        hub, "POST", "/api/models/alice/streamed/upload", multipart(files), {"Content-Type": CONTENT_TYPE}
    )
    assert status == 200 and again["created"] is False and again["sha"] == body["sha"]
    status, refused = request(
        hub,
        "POST",
        "/api/models/alice/streamed/upload",
        multipart({"x.txt": b"x"}),
        {"Content-Type": CONTENT_TYPE},
        token=hub.read_token,
    )
    assert status == 403 and "read-only" in refused["error"]
    status, bad = request(
        hub, "POST", "/api/models/alice/streamed/upload", multipart({"a/../b": b"x"}), {"Content-Type": CONTENT_TYPE}
    )
    assert status == 400 and "'..'" in bad["error"]
    status, _ = request(hub, "POST", "/api/models/alice/nope/upload", multipart(files), {"Content-Type": CONTENT_TYPE})
    assert status == 404
    assert temp_files(hub) == []


def _open_upload(hub: LiveHub, repo: str, file_size: int) -> tuple[socket.socket, bytes]:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'.encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    length = len(head) + file_size + len(tail)
    sock = socket.create_connection(("127.0.0.1", hub.port))
    sock.sendall(
        (
            f"POST /api/models/alice/{repo}/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {hub.token}\r\nContent-Type: {CONTENT_TYPE}\r\nContent-Length: {length}\r\n\r\n"
        ).encode()
    )
    return sock, head


def _read_status(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    sock.settimeout(30)
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1]), data


def test_file_over_the_size_limit_stops_the_server_reading_early(hub):
    create_repo(hub, "too-big")
    blobs_before = set(blob_files(hub))
    total = 256 * 1024 * 1024
    sock, head = _open_upload(hub, "too-big", total)
    sock.sendall(head)
    chunk = b"x" * (256 * 1024)
    sent = 0
    answered = False
    try:
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                answered = True
                break
            sock.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        answered = True
    status, raw = _read_status(sock)
    sock.close()
    assert answered and status == 413 and b"limit per file" in raw
    # The server answered after a little over the 16 MiB limit, not after the 256 MiB body.
    assert sent < 64 * 1024 * 1024
    assert temp_files(hub) == [] and set(blob_files(hub)) == blobs_before


def test_quota_refused_from_content_length_before_any_body_byte(hub):
    create_repo(hub, "quota")
    sock, _ = _open_upload(hub, "quota", 4 * 1024**3)  # over the 1 GiB user quota
    status, raw = _read_status(sock)  # answered with nothing of the body sent
    sock.close()
    assert status == 413 and b"storage quota" in raw


def test_server_killed_mid_upload_leaves_nothing_after_restart(hub):
    create_repo(hub, "killed")
    blobs_before = set(blob_files(hub))
    total = 12 * 1024 * 1024
    sock, head = _open_upload(hub, "killed", total)
    sock.sendall(head + b"k" * (8 * 1024 * 1024))
    deadline = time.monotonic() + 30
    while not any(p.suffix == ".part" and p.stat().st_size >= 4 * 1024 * 1024 for p in temp_files(hub)):
        assert time.monotonic() < deadline, "the upload never reached the server's temp file"
        time.sleep(0.05)
    hub.kill("web", signal.SIGKILL)
    sock.close()
    assert any(p.suffix == ".part" for p in temp_files(hub))  # the half upload is on disk, invisible
    # What `manage.py runhub` does at start, then the server again.
    hub.manage("cleanup_uploads", "--max-age-minutes", "0")
    hub.start_web()
    assert temp_files(hub) == []
    assert set(blob_files(hub)) == blobs_before
    page = _get_text(hub, "/alice/killed/commits")
    assert "No revisions yet" in page


def _get_text(hub: LiveHub, path: str) -> str:
    import urllib.request

    req = urllib.request.Request(hub.url + path, headers={"Authorization": f"Bearer {hub.token}"})
    with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310 - loopback
        return response.read().decode()
