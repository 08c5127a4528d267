"""The web server's HTTP protocol (hub/httpproto.py) over real sockets, against uvicorn as runhub starts it.

Bodies with a Content-Length bypass the HTTP parser once they start; these
tests check that every byte still arrives once, in order, as ``bytes``, and
that the connection stays usable for the requests after it.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import time

import pytest

from hub import webserver
from tests.live import ROOT, free_port

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def server():
    port = free_port()
    proc = subprocess.Popen(
        webserver.command("127.0.0.1", port, log_level="warning", app="tests.hub.echo_app:app"),
        cwd=ROOT,
        env=webserver.environ(),
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise
            time.sleep(0.1)
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def request(path: str, body: bytes, *, chunked: bool = False, close: bool = False) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: t\r\n"
    if chunked:
        head += "Transfer-Encoding: chunked\r\n"
        body = (
            b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:1000], body[1000:]) if part) + b"0\r\n\r\n"
        )
    else:
        head += f"Content-Length: {len(body)}\r\n"
    if close:
        head += "Connection: close\r\n"
    return head.encode() + b"\r\n" + body


def read_responses(sock: socket.socket, count: int) -> list[dict]:
    """``count`` JSON responses from a keep-alive connection."""
    sock.settimeout(30)  # a server that stops answering fails the test instead of hanging it
    data, answers = b"", []
    while len(answers) < count:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, "the server closed the connection early"
            data += chunk
        head, data = data.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200"), head
        length = int(
            next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
        )
        while len(data) < length:
            data += sock.recv(65536)
        answers.append(json.loads(data[:length]))
        data = data[length:]
    return answers


def expect(answer: dict, body: bytes) -> None:
    assert answer["size"] == len(body)
    assert answer["sha256"] == hashlib.sha256(body).hexdigest()
    assert answer["types"] == ["bytes"]  # ASGI bodies stay bytes


def test_large_body_in_small_writes_arrives_whole(server):
    body = os.urandom(5 * 1024 * 1024 + 17)
    with socket.create_connection(("127.0.0.1", server)) as sock:
        raw = request("/echo", body)
        for start in range(0, len(raw), 100_003):  # odd-sized writes across the headers and the body
            sock.sendall(raw[start : start + 100_003])
        (answer,) = read_responses(sock, 1)
    expect(answer, body)


def test_pipelined_requests_after_a_bypassed_body(server):
    """A body's end and the next request's headers in one read: the next request is parsed afresh."""
    bodies = [os.urandom(3 * 1024 * 1024), b"", os.urandom(1000), os.urandom(2 * 1024 * 1024 + 1)]
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(b"".join(request("/echo", body) for body in bodies))
        answers = read_responses(sock, len(bodies))
    for answer, body in zip(answers, bodies, strict=True):
        assert answer["size"] == len(body)
        assert answer["sha256"] == hashlib.sha256(body).hexdigest()


def test_chunked_body_still_goes_through_the_parser(server):
    body = os.urandom(300_000)
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(request("/echo", body, chunked=True) + request("/echo", b"after"))
        first, second = read_responses(sock, 2)
    expect(first, body)
    expect(second, b"after")


def test_unread_body_is_dropped_and_the_connection_reused(server):
    """The app answers before reading (a 413 does this): the rest of the body is skipped, not parsed."""
    body = os.urandom(4 * 1024 * 1024)
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(request("/early", body) + request("/echo", b"next request"))
        early, nxt = read_responses(sock, 2)
    assert early["size"] == 0
    expect(nxt, b"next request")


def test_receive_after_the_body_waits_for_the_disconnect(server):
    body = os.urandom(1024 * 1024)
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(request("/then-wait", body))
        (answer,) = read_responses(sock, 1)
    expect(answer, body)
    assert answer["after_body"] == "nothing"


def after_100_continue(port: int, path: str, body: bytes) -> dict:
    """As curl sends large uploads: headers with ``Expect: 100-continue``, wait for the interim answer, then the body."""
    head, _ = request(path, body).split(b"\r\n\r\n", 1)
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(30)
        sock.sendall(head + b"\r\nExpect: 100-continue\r\n\r\n")
        interim = b""
        while b"\r\n\r\n" not in interim:
            interim += sock.recv(1)
        assert interim.startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        (answer,) = read_responses(sock, 1)
    return answer


def test_expect_100_continue_then_the_body(server):
    body = os.urandom(2 * 1024 * 1024)
    expect(after_100_continue(server, "/echo", body), body)


# --- SocketBody: the app's thread reads the body from the socket (the upload routes) ------------------------


def test_socket_body_arrives_whole_and_the_next_requests_follow(server):
    """Read off the socket by the app's thread; what the event loop had read comes first, and pipelined
    requests after the body (in the same writes) are parsed as usual."""
    bodies = [os.urandom(5 * 1024 * 1024 + 17), os.urandom(3 * 1024 * 1024)]
    raw = request("/socket", bodies[0]) + request("/echo", b"next") + request("/socket", bodies[1])
    with socket.create_connection(("127.0.0.1", server)) as sock:
        for start in range(0, len(raw), 100_003):
            sock.sendall(raw[start : start + 100_003])
        first, nxt, last = read_responses(sock, 3)
    for answer, body in ((first, bodies[0]), (last, bodies[1])):
        assert answer["size"] == len(body)
        assert answer["sha256"] == hashlib.sha256(body).hexdigest()
        assert "socket" in answer["types"]
    expect(nxt, b"next")


def test_socket_body_after_expect_100_continue(server):
    body = os.urandom(2 * 1024 * 1024)
    answer = after_100_continue(server, "/socket", body)
    assert "socket" in answer["types"]
    assert answer["size"] == len(body) and answer["sha256"] == hashlib.sha256(body).hexdigest()


def test_chunked_body_is_not_offered_to_the_socket_reader(server):
    body = os.urandom(300_000)
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(request("/socket", body, chunked=True))
        (answer,) = read_responses(sock, 1)
    expect(answer, body)  # read through receive(): bytes messages, no "socket"


def test_socket_reader_that_stops_early_answers_and_closes(server):
    """A refused upload stops reading mid-body and answers with Connection: close; nothing hangs."""
    body = os.urandom(8 * 1024 * 1024)
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.settimeout(30)
        try:
            sock.sendall(request("/socket-stop", body))
        except OSError:
            pass  # the server may close before the client has written everything
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200")
    answer = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert 1024 * 1024 <= answer["size"] < len(body)


def test_client_leaving_mid_body_ends_the_socket_read(server):
    body = os.urandom(4 * 1024 * 1024)
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(request("/socket", body)[: -len(body) // 2])
    deadline = time.monotonic() + 30
    while True:
        with socket.create_connection(("127.0.0.1", server)) as sock:
            sock.sendall(request("/last", b""))
            (last,) = read_responses(sock, 1)
        if last.get("ended") == "client left" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert last["ended"] == "client left"
