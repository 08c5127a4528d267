"""Ingest of a large file through the live server vs hashing the same file with hashlib.

Prints the ratio ``upload time / hashlib.file_digest time`` (target <= 1.5 with stock parts)
and the web server's resident memory growth during the upload (target <= 64
MiB), then floors in the same units: the bytes through a bare loopback socket
(what TCP alone costs on this machine), and through uvicorn (as
hub/webserver.py starts it) and granian to an app that drops them. The client sends the multipart body with ``socket.sendfile`` so its own
cost stays out of the figure as far as possible; both timings are measured in
this run, on this machine, best of ``ROUNDS``.

    python bench/bench_ingest.py            # 1 GiB
    BENCH_INGEST_MIB=256 python bench/bench_ingest.py
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub import webserver  # noqa: E402
from tests.live import LiveHub, free_port  # noqa: E402

SIZE = int(os.environ.get("BENCH_INGEST_MIB", "1024")) * 1024 * 1024
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
BOUNDARY = "bench-boundary-5f2a"


def make_file(path: Path) -> None:
    block = os.urandom(16 * 1024 * 1024)
    with open(path, "wb") as handle:
        for start in range(0, SIZE, len(block)):
            handle.write(block[: min(len(block), SIZE - start)])


def hash_time(path: Path) -> float:
    start = time.perf_counter()
    with open(path, "rb") as handle:
        hashlib.file_digest(handle, "sha256")
    return time.perf_counter() - start


def upload_time(hub, token: str, path: Path, repo: str) -> tuple[float, dict]:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="model.bin"\r\n\r\n'.encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    length = len(head) + SIZE + len(tail)
    request = (
        f"POST /api/models/bench/{repo}/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {length}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", hub.port)) as sock, open(path, "rb") as handle:
        start = time.perf_counter()
        sock.sendall(request + head)
        sock.sendfile(handle)
        sock.sendall(tail)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        elapsed = time.perf_counter() - start
    status = int(data.split(b" ", 2)[1])
    body = json.loads(data.split(b"\r\n\r\n", 1)[1])
    if status not in (200, 201):  # the discard app answers 200 too
        raise SystemExit(f"upload failed: {status} {body}")
    return elapsed, body


def socket_floor(path: Path) -> float:
    """The same bytes sent the same way to a thread that only receives them: what loopback TCP costs here."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def drain():
            conn, _ = listener.accept()
            buffer = bytearray(4 * 1024 * 1024)
            with conn:
                while conn.recv_into(buffer):
                    pass

        thread = threading.Thread(target=drain)
        thread.start()
        with socket.create_connection(listener.getsockname()) as sock, open(path, "rb") as handle:
            start = time.perf_counter()
            sock.sendfile(handle)
            sock.shutdown(socket.SHUT_WR)
            thread.join()
            return time.perf_counter() - start


class Server:
    """``app`` under uvicorn as runhub starts it (hub/webserver.py) or under granian, on a free port."""

    def __init__(self, app: str, kind: str = "uvicorn", cwd: Path | None = None, env: dict | None = None):
        self.port = free_port()
        if kind == "uvicorn":
            args = webserver.command("127.0.0.1", self.port, log_level="warning", app=app)
        else:  # granian with its defaults, for comparison
            args = [sys.executable, "-m", "granian", "--interface", "asginl"]
            args += ["--port", str(self.port), "--log-level", "warning", app]
        self.proc = subprocess.Popen(args, cwd=cwd or ROOT, env=env)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class RssPeak:
    """Peak resident memory of a server process and its workers during a ``with`` block.

    Reads the kernel's high-water mark (``VmHWM``), reset at the start through
    ``/proc/<pid>/clear_refs``: exact, and it costs the server nothing, where
    polling RSS every few ms took a noticeable share of this 2-core machine.
    Falls back to polling when ``clear_refs`` may not be written.
    """

    def __init__(self, pid: int):
        root = psutil.Process(pid)
        self.processes = [root, *root.children(recursive=True)]
        self.base = self.peak = self.rss()
        self._poller: threading.Thread | None = None

    def rss(self) -> int:
        return sum(p.memory_info().rss for p in self.processes)

    @staticmethod
    def _hwm(pid: int) -> int:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmHWM")

    def __enter__(self) -> RssPeak:
        try:
            for p in self.processes:
                Path(f"/proc/{p.pid}/clear_refs").write_text("5")  # 5: reset the peak RSS to the current RSS
        except OSError:
            self._running = True
            self._poller = threading.Thread(target=self._poll, daemon=True)
            self._poller.start()
        self.base = self.rss()
        return self

    def _poll(self) -> None:
        while self._running:
            self.peak = max(self.peak, self.rss())
            time.sleep(0.05)

    def __exit__(self, *exc) -> None:
        if self._poller is not None:
            self._running = False
            self._poller.join()
        else:
            self.peak = sum(self._hwm(p.pid) for p in self.processes)


def measure(server, pid: int, token: str, source: Path) -> tuple[list[float], list[int], dict]:
    uploads, growth = [], []
    for _ in range(ROUNDS):
        with RssPeak(pid) as sampler:
            elapsed, body = upload_time(server, token, source, "big")
        uploads.append(elapsed)
        growth.append(sampler.peak - sampler.base)
    return uploads, growth, body


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        tmp = Path(tmp)
        source = tmp / "model.bin"
        make_file(source)
        hash_time(source)  # warm the page cache
        with LiveHub(tmp / "hub", extra_env={"LOG_LEVEL": "WARNING"}) as hub:
            token = hub.create_token("bench", "write")
            create = urllib.request.Request(
                hub.url + "/api/models",
                data=json.dumps({"name": "big"}).encode(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            urllib.request.urlopen(create).read()  # noqa: S310 - loopback
            hashes = [hash_time(source) for _ in range(ROUNDS)]
            uploads, growth, body = measure(hub, hub.processes["web"].pid, token, source)
            hashes += [hash_time(source) for _ in range(ROUNDS)]
            expected = hashlib.file_digest(open(source, "rb"), "sha256").hexdigest()  # noqa: SIM115
            assert body["manifest"][0]["sha256"] == expected, "the server stored other bytes"
            floors = {"bare loopback socket (no HTTP)": min(socket_floor(source) for _ in range(ROUNDS))}
            for kind in ("uvicorn", "granian"):
                floor = Server("bench._discard_app:app", kind)
                try:
                    floors[kind] = min(upload_time(floor, token, source, "x")[0] for _ in range(ROUNDS))
                finally:
                    floor.stop()
            # The same hub (same data and database) under granian, for comparison.
            granian = Server("hub.asgi:application", "granian", env=hub.env)
            try:
                g_uploads, g_growth, _ = measure(granian, granian.proc.pid, token, source)
            finally:
                granian.stop()
    mib = SIZE / 1024**2
    best_hash, best_upload = min(hashes), min(uploads)
    print(f"file: {mib:.0f} MiB; rounds: {ROUNDS}")
    print(f"hashlib.file_digest sha256: {best_hash:.3f} s ({SIZE / best_hash / 1e9:.2f} GB/s)")
    print(f"upload through the live server: {best_upload:.3f} s ({SIZE / best_upload / 1e9:.2f} GB/s)")
    print(f"ratio upload/hash: {best_upload / best_hash:.2f}x (target <= 1.5x)")
    print(f"server RSS growth: {max(growth) / 1024**2:.1f} MiB (target <= 64 MiB)")
    for kind, seconds in floors.items():
        what = kind if kind.startswith("bare") else f"{kind} delivering the body to an app that discards it"
        print(f"floor: {what}: {seconds:.3f} s, {seconds / best_hash:.2f}x")
    print(
        f"the same hub under granian: {min(g_uploads):.3f} s, {min(g_uploads) / best_hash:.2f}x; "
        f"RSS growth {max(g_growth) / 1024**2:.1f} MiB"
    )


if __name__ == "__main__":
    main()
