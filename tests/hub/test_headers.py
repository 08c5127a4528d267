"""Text from the URL never breaks a response header (hub/headers.py).

Error messages quote names from the URL, and X-Error-Message carries them. A
control character there made Django answer 500 (``\\r``, ``\\n``) or made the
server drop the connection with no answer at all (``\\x00``, ``\\x1f``), which only
a real server shows: these requests go over a socket to the live hub.
"""

from __future__ import annotations

import json
import socket
import urllib.request

import pytest

from hub.headers import MAX_HEADER_VALUE, header_safe

CONTROLS = ["%00", "%1F", "%0A", "%0D", "%7F", "%C2%85", "%E2%80%AE"]  # NUL, US, LF, CR, DEL, NEL, RLO


def test_header_safe_keeps_printable_ascii_and_caps_the_length():
    assert header_safe("Repository a/b not found.") == "Repository a/b not found."
    assert header_safe("a\r\nb\x00c\x1fd\x7fe\u202ef\u00e9") == "a??b?c?d?e?f?"
    assert len(header_safe("x" * 5000)) == MAX_HEADER_VALUE


def raw_request(url: str, method: str, target: str, token: str, body: bytes = b"", content_type: str = "") -> bytes:
    """One HTTP/1.1 request sent byte for byte (clients refuse to send some of these targets); b'' if dropped."""
    host, port = url.removeprefix("http://").split(":")
    head = f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    head += f"Content-Length: {len(body)}\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head.encode() + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def json_body(answer: bytes):
    head, _, payload = answer.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        chunks = b""
        while payload:
            size, _, payload = payload.partition(b"\r\n")
            chunks += payload[: int(size, 16)]
            payload = payload[int(size, 16) + 2 :]
        payload = chunks
    return json.loads(payload)


@pytest.fixture(scope="module")
def hub_with_repo(live_hub):
    token = live_hub.create_token("hdr", "write")
    request = urllib.request.Request(
        live_hub.url + "/api/models",
        data=json.dumps({"name": "m"}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:  # noqa: S310 - loopback
        assert response.status == 201
    return live_hub, token


# (method, path with {c} where the control character goes, body, content type)
TARGETS = [
    ("GET", "/api/models/{c}/0/refs", b"", ""),
    ("GET", "/api/models/hdr/m{c}", b"", ""),
    ("GET", "/api/models/hdr/m/tree/ma{c}in", b"", ""),
    ("GET", "/api/models/hdr/m/revision/ma{c}in", b"", ""),
    ("GET", "/hdr/m{c}/resolve/main/config.json", b"", ""),
    ("HEAD", "/hdr/m/resolve/ma{c}in/config.json", b"", ""),
    ("GET", "/hdr/m/resolve/main/con{c}fig.json", b"", ""),
    ("POST", "/api/models/hdr/m{c}/preupload/main", b'{"files": []}', "application/json"),
    ("POST", "/api/models/hdr/m/commit/ma{c}in", b'{"key": "header", "value": {}}\n', "application/x-ndjson"),
    ("POST", "/hdr/m{c}.git/info/lfs/objects/batch", b'{"operation": "upload", "objects": []}', "application/json"),
    ("POST", "/api/models/hdr/m{c}/upload", b"--b--\r\n", "multipart/form-data; boundary=b"),
    ("POST", "/api/models/hdr/m/tag/ma{c}in", b'{"tag": "v1"}', "application/json"),
    ("GET", "/api/models/hdr/m{c}/xet-read-token/main", b"", ""),
    ("POST", "/xet/v1/xorbs/default/{c}", b"x", "application/octet-stream"),
    ("GET", "/api/models/hdr/m{c}/messages", b"", ""),
]


@pytest.mark.live
@pytest.mark.parametrize("control", CONTROLS)
@pytest.mark.parametrize("method, path, body, content_type", TARGETS)
def test_control_characters_in_the_url_get_a_json_4xx(hub_with_repo, control, method, path, body, content_type):
    hub, token = hub_with_repo
    answer = raw_request(hub.url, method, path.format(c=control), token, body, content_type)
    assert answer, "the server dropped the connection without an answer"
    status_line, _, rest = answer.partition(b"\r\n")
    status = int(status_line.split()[1])
    assert 400 <= status < 500, answer[:500]
    head = rest.partition(b"\r\n\r\n")[0]
    if method != "HEAD":
        assert "error" in json_body(answer)
    messages = [line for line in head.split(b"\r\n") if line.lower().startswith(b"x-error-message:")]
    assert all(32 <= byte < 127 for line in messages for byte in line)


# The same through the body: names the error message quotes back. (JSON escapes for the controls.)
BODY_TARGETS = [
    ("POST", "/api/repos/create", '{{"name": "a{c}b"}}', "application/json"),
    ("DELETE", "/api/repos/delete", '{{"name": "a{c}b"}}', "application/json"),
    ("POST", "/api/models", '{{"name": "a{c}b"}}', "application/json"),
    ("POST", "/api/models/hdr/m/preupload/main", '{{"files": [{{"path": "a{c}b", "size": 1}}]}}', "application/json"),
    (
        "POST",
        "/api/models/hdr/m/commit/main",
        '{{"key": "header", "value": {{}}}}\n{{"key": "file", "value": {{"path": "a{c}b", "content": ""}}}}\n',
        "application/x-ndjson",
    ),
]


@pytest.mark.live
@pytest.mark.parametrize("control", ["\\u0000", "\\u001f", "\\n", "\\r", "\\u202e"])
@pytest.mark.parametrize("method, path, body, content_type", BODY_TARGETS)
def test_control_characters_in_the_body_get_a_json_4xx(hub_with_repo, control, method, path, body, content_type):
    hub, token = hub_with_repo
    answer = raw_request(hub.url, method, path, token, body.format(c=control).encode(), content_type)
    assert answer, "the server dropped the connection without an answer"
    status = int(answer.split(b" ", 2)[1])
    assert 400 <= status < 500, answer[:500]
    assert "error" in json_body(answer)
