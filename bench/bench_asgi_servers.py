"""ASGI servers compared: hello-world req/s and a 1 GiB download, against nginx sendfile.

For each of uvicorn, granian and daphne serving ``hub.asgi:application``:
- req/s of a bare ASGI hello-world app (``bench/asgi_hello.py``) over keep-alive;
- throughput of ``GET /<owner>/<name>/resolve/main/big.bin`` (1 GiB, page-cached)
  read on loopback with ``recv_into`` a 1 MiB buffer, as a ratio of nginx
  serving the same blob as a static file with sendfile (the baseline), and the
  server's resident-memory growth during the transfer;
- production mode: nginx in front of the hub's server (hub/webserver.py) with ``HUB_ACCEL_REDIRECT_PREFIX``,
  so the app answers the access check and nginx sends the bytes.

The nginx parts are skipped with a message when nginx is not installed.
Run: ``python bench/bench_asgi_servers.py [--size-mib 1024]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from hub import webserver  # noqa: E402
from tests.live import free_port  # noqa: E402

REPO = "bench/big"


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def http_get(port: int, path: str, headers: str = "") -> tuple[int, int, float]:
    """GET ``path``; returns (status, body bytes, seconds). Reads with recv_into a 1 MiB buffer."""
    sock = socket.create_connection(("127.0.0.1", port))
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    start = time.perf_counter()
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        n = sock.recv_into(view)
        if not n:
            break
        head += bytes(view[:n])
    head, _, rest = head.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), None
    )
    got = len(rest)
    while length is None or got < length:
        n = sock.recv_into(view)
        if not n:
            break
        got += n
    seconds = time.perf_counter() - start
    sock.close()
    return status, got, seconds


def hello_rps(port: int, seconds: float = 3.0) -> float:
    sock = socket.create_connection(("127.0.0.1", port))
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    done = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        sock.sendall(request)
        data = b""
        while not data.endswith(b"hello"):
            data += sock.recv(65536)
        done += 1
    sock.close()
    return done / seconds


def page_rps(port: int, path: str, seconds: float = 3.0) -> float:
    """Keep-alive GETs of a hub page (the framework's cost, not just the server's)."""
    sock = socket.create_connection(("127.0.0.1", port))
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    done, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(
            next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
        )
        while len(body) < length:
            body += sock.recv(65536)
        done += 1
    sock.close()
    return done / seconds


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def measure_download(port: int, path: str, pid: int | None, size: int, runs: int = 3) -> tuple[float, float]:
    """Best GB/s of ``runs`` downloads and the largest RSS growth (MiB) of process ``pid`` while they ran."""
    proc = psutil.Process(pid) if pid else None
    base = tree_rss(proc) if proc else 0
    peak = [base]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], tree_rss(proc))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True) if proc else None
    if sampler:
        sampler.start()
    best = 0.0
    for _ in range(runs):
        status, got, seconds = http_get(port, path)
        if status != 200 or got != size:
            raise RuntimeError(f"download of {path} on {port} gave {status}, {got} of {size} bytes")
        best = max(best, got / seconds / 1e9)
    stop.set()
    if sampler:
        sampler.join()
    return best, (peak[0] - base) / 2**20


SERVERS = {
    # The hub's server exactly as runhub, production and the tests start it.
    "uvicorn": lambda port, app: webserver.command("127.0.0.1", port, log_level="warning", app=app),
    "granian": lambda port, app: [
        sys.executable, "-m", "granian", "--interface", "asginl", "--host", "127.0.0.1", "--port", str(port),
        "--workers", "1", "--log-level", "warning", app,
    ],
    "daphne": lambda port, app: [
        sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "-v", "0", app,
    ],
}  # fmt: skip


def start(cmd: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


NGINX_CONF = """
worker_processes 1;
{user}
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{static_port};
    location /static-blob {{ alias {blob}; }}
  }}
  server {{
    listen 127.0.0.1:{proxy_port};
    location /_blobs/ {{ internal; alias {blobs}/; }}
    location / {{ proxy_pass http://127.0.0.1:{app_port}; proxy_buffering off; }}
  }}
}}
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--servers", default="uvicorn,granian,daphne")
    args = parser.parse_args()
    size = args.size_mib * 2**20
    tmp = Path(tempfile.mkdtemp(prefix="bench-asgi-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"HUB_DATA_DIR": str(tmp / "data"), "DJANGO_DEBUG": "1", "PYTHONPATH": str(ROOT)})
    folder = tmp / "model"
    folder.mkdir()
    block = os.urandom(2**20)
    with open(folder / "big.bin", "wb") as handle:
        for _ in range(args.size_mib):
            handle.write(block)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "publish_folder", REPO, str(folder)], cwd=ROOT, env=env, check=True, capture_output=True)
    (folder / "big.bin").unlink()
    blobs = tmp / "data" / "blobs"
    blob = next(p for p in blobs.rglob("*") if p.is_file())
    url = f"/{REPO}/resolve/main/big.bin"
    results: dict[str, dict] = {}
    nginx = shutil.which("nginx")
    nginx_gbps = None
    static_port, proxy_port, app_port = free_port(), free_port(), free_port()
    nginx_proc = None
    if nginx:
        for sub in ("body", "proxy", "fcgi", "uwsgi", "scgi"):
            (tmp / sub).mkdir()
        conf = tmp / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                user="user root;" if os.geteuid() == 0 else "",
                tmp=tmp,
                static_port=static_port,
                proxy_port=proxy_port,
                app_port=app_port,
                blob=blob,
                blobs=blobs,
            )
        )
        nginx_proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp)], stderr=subprocess.DEVNULL)
        wait_port(static_port)
        http_get(static_port, "/static-blob")  # warm the page cache
        nginx_gbps, _ = measure_download(static_port, "/static-blob", None, size)
        print(f"nginx sendfile (baseline): {nginx_gbps:.2f} GB/s")
    else:
        print("nginx is not installed: skipping the nginx baseline and the X-Accel-Redirect run")
    try:
        for name in args.servers.split(","):
            row = results[name] = {}
            port = free_port()
            proc = start(SERVERS[name](port, "bench.asgi_hello:app"), env)
            try:
                wait_port(port)
                row["hello_rps"] = hello_rps(port)
            finally:
                stop(proc)
            port = free_port()
            proc = start(SERVERS[name](port, "hub.asgi:application"), env)
            try:
                wait_port(port)
                http_get(port, url)  # warm up: imports, DB connection, page cache
                row["gbps"], row["rss_mib"] = measure_download(port, url, proc.pid, size)
                page_rps(port, "/api/models/" + REPO, 0.5)
                row["api_rps"] = page_rps(port, "/api/models/" + REPO)
            finally:
                stop(proc)
            print(
                f"{name}: hello {row['hello_rps']:.0f} req/s; GET /api/models/{REPO} {row['api_rps']:.0f} req/s; "
                f"download {row['gbps']:.2f} GB/s; "
                f"RSS +{row['rss_mib']:.0f} MiB"
            )
        if nginx_proc is not None:
            accel_env = dict(env, HUB_ACCEL_REDIRECT_PREFIX="/_blobs/")
            proc = start(SERVERS["uvicorn"](app_port, "hub.asgi:application"), accel_env)
            try:
                wait_port(app_port)
                http_get(proxy_port, url)
                gbps, rss = measure_download(proxy_port, url, proc.pid, size)
            finally:
                stop(proc)
            results["x-accel-redirect"] = {"gbps": gbps, "rss_mib": rss}
            print(f"X-Accel-Redirect (nginx -> uvicorn): {gbps:.2f} GB/s; app RSS +{rss:.0f} MiB")
        if nginx_proc is not None:
            again, _ = measure_download(static_port, "/static-blob", None, size)
            nginx_gbps = max(nginx_gbps, again)  # the baseline at its best: ratios err on the strict side
            print(f"nginx sendfile measured again: {again:.2f} GB/s; baseline {nginx_gbps:.2f} GB/s")
            for name, row in results.items():
                target = 0.9 if name == "x-accel-redirect" else 0.5
                print(f"download {name}/nginx: {row['gbps'] / nginx_gbps:.2f}x (target >= {target}x)")
        base = results.get("uvicorn", {}).get("hello_rps")
        if base:
            for name, row in results.items():
                if "hello_rps" in row:
                    print(
                        f"{name}/uvicorn: hello-world {row['hello_rps'] / base:.2f}x, "
                        f"hub API page {row['api_rps'] / results['uvicorn']['api_rps']:.2f}x"
                    )
    finally:
        if nginx_proc is not None:
            stop(nginx_proc)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
