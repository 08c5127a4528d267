"""The streaming upload front on a real server: limits stop the body early, a killed upload leaves nothing."""

from __future__ import annotations

import hashlib
import json
import os
import select
import signal
import socket
import time

import pytest

from models_app.repos.initial import GITATTRIBUTES, INITIAL_MESSAGE
from tests.initial_commit import GITATTRIBUTES_SHA256
from tests.live import LiveHub
from tests.models_app.multipart_body import BOUNDARY, CONTENT_TYPE, multipart

pytestmark = [pytest.mark.live, pytest.mark.slow]
LIMIT = 16 * 1024 * 1024
IDLE = 5  # HUB_UPLOAD_IDLE_TIMEOUT of this module's hub


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    env = {"HUB_MAX_FILE_SIZE": str(LIMIT), "HUB_USER_QUOTA": str(1024**3), "HUB_UPLOAD_IDLE_TIMEOUT": str(IDLE)}
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
        ".gitattributes": GITATTRIBUTES_SHA256,  # from the repo's initial commit
        **{p: hashlib.sha256(d).hexdigest() for p, d in files.items()},
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


def test_large_files_in_odd_writes_are_stored_byte_exact(hub):
    """What lands on disk is every byte sent, for files that start anywhere in the body and boundaries
    split across reads."""
    create_repo(hub, "odd-writes")
    files = {
        "config.json": b'{"a": 1}',
        "model-1.bin": os.urandom(9 * 1024 * 1024 + 5),
        "tokenizer/vocab.txt": b"[PAD]\n" * 1000,
        "model-2.bin": os.urandom(5 * 1024 * 1024 + 511),
    }
    body = multipart(files, message="odd writes")
    raw = _upload_head(hub, "odd-writes", len(body), close=True) + body
    with socket.create_connection(("127.0.0.1", hub.port)) as sock:
        for start in range(0, len(raw), 77_777):
            sock.sendall(raw[start : start + 77_777])
        status, data = _read_status(sock)
        while chunk := sock.recv(65536):
            data += chunk
    assert status == 201, data
    manifest = {f["path"]: f["sha256"] for f in json.loads(data.split(b"\r\n\r\n", 1)[1])["manifest"]}
    assert manifest == {path: hashlib.sha256(content).hexdigest() for path, content in files.items()} | {
        ".gitattributes": GITATTRIBUTES_SHA256
    }
    on_disk = {hashlib.sha256(path.read_bytes()).hexdigest() for path in blob_files(hub)}
    assert set(manifest.values()) <= on_disk


def test_expect_100_continue_then_the_body_then_the_next_request(hub):
    """As curl sends large uploads: headers with ``Expect: 100-continue``, the interim answer, the body;
    the connection then serves the next request."""
    create_repo(hub, "continue")
    content = os.urandom(3 * 1024 * 1024 + 7)
    body = multipart({"big.bin": content})
    head = _upload_head(hub, "continue", len(body))[:-2] + b"Expect: 100-continue\r\n\r\n"
    with socket.create_connection(("127.0.0.1", hub.port)) as sock:
        sock.settimeout(30)
        sock.sendall(head)
        interim = b""
        while b"\r\n\r\n" not in interim:
            interim += sock.recv(1)
        assert interim.startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        status, data = _read_status(sock)
        head, _, rest = data.partition(b"\r\n\r\n")
        length = int(
            next(v for k, _, v in (h.partition(b":") for h in head.split(b"\r\n")) if k.lower() == b"content-length")
        )
        while len(rest) < length:
            rest += sock.recv(65536)
        assert status == 201, rest
        manifest = {f["path"]: f["sha256"] for f in json.loads(rest[:length])["manifest"]}
        assert manifest["big.bin"] == hashlib.sha256(content).hexdigest()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        status, _ = _read_status(sock)
    assert status == 200


def _open_upload(hub: LiveHub, repo: str, file_size: int) -> tuple[socket.socket, bytes]:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'.encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    sock = socket.create_connection(("127.0.0.1", hub.port))
    sock.sendall(_upload_head(hub, repo, len(head) + file_size + len(tail)))
    return sock, head


def _upload_head(hub: LiveHub, repo: str, length: int, *, close: bool = False) -> bytes:
    """The request line and headers of a native upload of ``length`` body bytes to alice/``repo``."""
    connection = "Connection: close\r\n" if close else ""
    return (
        f"POST /api/models/alice/{repo}/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {hub.token}\r\n"
        f"Content-Type: {CONTENT_TYPE}\r\nContent-Length: {length}\r\n{connection}\r\n"
    ).encode()


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


def test_client_leaving_mid_upload_leaves_nothing_and_no_error(hub):
    create_repo(hub, "left")
    blobs_before = set(blob_files(hub))
    log_before = len(hub.log("web"))
    sock, head = _open_upload(hub, "left", 8 * 1024 * 1024)
    with sock:
        sock.sendall(head + os.urandom(3 * 1024 * 1024))
    deadline = time.monotonic() + 30
    while temp_files(hub):  # the hub notices, drops the temp file
        assert time.monotonic() < deadline, "the abandoned upload's temp file stayed"
        time.sleep(0.05)
    assert set(blob_files(hub)) == blobs_before
    assert only_the_initial_commit(hub, "left")
    logged = hub.log("web")[log_before:]
    assert "without starting response" not in logged and "Traceback" not in logged, logged


def test_stalled_upload_gets_408_and_leaves_nothing(hub):
    create_repo(hub, "stalled")
    blobs_before = set(blob_files(hub))
    sock, head = _open_upload(hub, "stalled", 8 * 1024 * 1024)
    with sock:
        sock.sendall(head + os.urandom(1024 * 1024))  # then nothing more
        status, data = _read_status(sock)
        while chunk := sock.recv(65536):  # the hub closes the connection after its answer
            data += chunk
    assert status == 408
    answer = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert f"No upload data for {IDLE} s" in answer["error"]
    assert temp_files(hub) == [] and set(blob_files(hub)) == blobs_before
    assert only_the_initial_commit(hub, "stalled")


def test_server_killed_mid_upload_leaves_nothing_after_restart(hub):
    create_repo(hub, "killed")
    blobs_before = set(blob_files(hub))
    total = 12 * 1024 * 1024
    sock, head = _open_upload(hub, "killed", total)
    # The hub's writes trail the socket by up to two 4 MiB batches (a lane batch, then a direct-I/O run
    # that is written once it is full or broken), so of these 10 MiB at least ~2 MiB reach the disk.
    sock.sendall(head + b"k" * (10 * 1024 * 1024))
    deadline = time.monotonic() + 30
    while not any(p.suffix == ".part" and p.stat().st_size >= 1024 * 1024 for p in temp_files(hub)):
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
    assert only_the_initial_commit(hub, "killed")


def only_the_initial_commit(hub: LiveHub, repo: str) -> bool:
    """alice/``repo``'s history is still just the commit every new repo starts with."""
    status, commits = request(hub, "GET", f"/api/models/alice/{repo}/commits/main")
    return status == 200 and [commit["title"] for commit in commits] == [INITIAL_MESSAGE]


def test_session_upload_needs_the_csrf_header(hub):
    import httpx

    hub.manage(
        "shell",
        "-c",
        "from hub.models import User; u = User.objects.get(username='alice'); "
        "u.set_password('correct-horse-battery'); u.save()",
    )
    create_repo(hub, "by-session")
    with httpx.Client(base_url=hub.url, headers={"Origin": hub.url}) as browser:
        browser.get("/accounts/login/")
        token = browser.cookies["csrftoken"]
        login = browser.post(
            "/accounts/login/",
            data={"username": "alice", "password": "correct-horse-battery", "csrfmiddlewaretoken": token},
        )
        assert login.status_code == 302 and "sessionid" in browser.cookies
        body = multipart({"a.txt": b"from the browser"})
        refused = browser.post(
            "/api/models/alice/by-session/upload", content=body, headers={"Content-Type": CONTENT_TYPE}
        )
        assert refused.status_code == 403 and "CSRF" in refused.json()["error"]
        accepted = browser.post(
            "/api/models/alice/by-session/upload",
            content=body,
            headers={"Content-Type": CONTENT_TYPE, "X-CSRFToken": browser.cookies["csrftoken"]},
        )
        assert accepted.status_code == 201, accepted.text
    with httpx.Client(base_url=hub.url) as anonymous:
        response = anonymous.post(
            "/api/models/alice/by-session/upload", content=body, headers={"Content-Type": CONTENT_TYPE}
        )
        assert response.status_code == 401


def test_huggingface_hub_client_settings_and_tags(hub):
    from huggingface_hub import HfApi

    create_repo(hub, "hf-settings")
    status, body = request(
        hub, "POST", "/api/models/alice/hf-settings/upload", multipart({"a.txt": b"a"}), {"Content-Type": CONTENT_TYPE}
    )
    assert status == 201
    api = HfApi(endpoint=hub.url, token=hub.token)
    api.update_repo_settings("alice/hf-settings", private=True)
    assert _anonymous_status(hub, "/alice/hf-settings/commits") == 404
    anonymous = HfApi(endpoint=hub.url, token=False)
    try:
        anonymous.create_tag("alice/hf-settings", tag="nope")
        raise AssertionError("an anonymous tag must fail")
    except Exception as exc:  # the client raises its HTTP error for the 401/404
        assert "401" in str(exc) or "404" in str(exc) or "Repository" in str(exc)
    api.create_tag("alice/hf-settings", tag="v1.0", tag_message="first", revision="main")
    api.update_repo_settings("alice/hf-settings", private=False)
    assert _anonymous_status(hub, "/alice/hf-settings/commits") == 200
    status, again = request(
        hub,
        "POST",
        "/api/models/alice/hf-settings/tag/main",
        json.dumps({"tag": "v1.0"}).encode(),
        {"Content-Type": "application/json"},
    )
    assert status == 409 and "already exists" in again["error"]


def _anonymous_status(hub: LiveHub, path: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(hub.url + path, timeout=30) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_raw_put_of_one_file(hub):
    create_repo(hub, "raw-put")
    data = b"raw weights" * 1000
    url = "/api/models/alice/raw-put/upload/weights/model.bin?message=raw"
    status, body = request(hub, "PUT", url, data)
    assert status == 201 and body["manifest"] == [
        {"path": ".gitattributes", "sha256": GITATTRIBUTES_SHA256, "size": len(GITATTRIBUTES)},
        {"path": "weights/model.bin", "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)},
    ]
    assert body["revision"]["title"] == "raw"
    status, again = request(hub, "PUT", url, data)
    assert status == 200 and again["created"] is False
    status, bad = request(hub, "PUT", "/api/models/alice/raw-put/upload/x.bin?sha256=" + "0" * 64, b"abc")
    assert status == 422 and "sha256 mismatch" in bad["error"]
    status, bad = request(hub, "PUT", "/api/models/alice/raw-put/upload/.git/config", b"abc")
    assert status == 400 and "'.git'" in bad["error"]
    # Announced over the per-file limit: refused before a byte of the body is read.
    sock = socket.create_connection(("127.0.0.1", hub.port))
    sock.sendall(
        (
            f"PUT /api/models/alice/raw-put/upload/huge.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {hub.token}\r\n"
            f"Content-Length: {LIMIT + 1}\r\n\r\n"
        ).encode()
    )
    status, raw = _read_status(sock)
    sock.close()
    assert status == 413 and b"limit per file" in raw
    assert temp_files(hub) == []
