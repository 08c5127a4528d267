"""Downloads through nginx in S3 mode against the object store serving the same file directly, same run.

A live hub in S3 mode (moto's S3 server as the store) behind nginx, as deploy/nginx.conf puts it:

- through the hub: ``GET nginx/<repo>/resolve/main/<file>``; the web process checks access, counts the
  download and answers 302 to a presigned URL, which the client follows to the store (the HF clients do
  the same: they drop their token on the other host);
- directly: ``GET`` of a presigned URL for the same object, straight from the store: the floor, what
  the store gives any client.

Each path downloads the file ``BENCH_ROUNDS`` times, alternating, streamed to nowhere; the best time of
each is compared. Goal (issue #22): the hub's path at least 0.9x of the store's own throughput.

Run: ``python bench/bench_s3_download.py`` (``BENCH_MB``, default 256; ``BENCH_ROUNDS``, default 3).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.bench_s3_direct import s3_env, start_moto  # noqa: E402
from tests.live import LiveHub, free_port  # noqa: E402

SIZE = int(os.environ.get("BENCH_MB", "256")) * 1024 * 1024
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))

NGINX = """
worker_processes 1;
{user}
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  client_max_body_size 0;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://127.0.0.1:{app_port};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_buffering off;
    }}
  }}
}}
"""


def fetch(client: httpx.Client, url: str, headers: dict | None = None) -> float:
    start = time.perf_counter()
    got = 0
    with client.stream("GET", url, headers=headers or {}, follow_redirects=True) as answer:
        answer.raise_for_status()
        for chunk in answer.iter_raw(1024 * 1024):
            got += len(chunk)
    elapsed = time.perf_counter() - start
    if got != SIZE:
        sys.exit(f"bench_s3_download: {url} gave {got} bytes, not {SIZE}")
    return elapsed


def main() -> None:
    os.environ.update({"HF_HUB_DISABLE_XET": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "HF_HUB_DISABLE_TELEMETRY": "1"})
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        moto, moto_url = start_moto(tmp)
        try:
            # The upload is set-up, not measured: verified in the web request, so no worker is needed.
            env = {**s3_env(moto_url), "HUB_LFS_VERIFY_INLINE_MAX": "4GiB"}
            with LiveHub(tmp / "hub", extra_env=env) as hub:
                token = hub.create_token("bench-user", "write")
                weights = tmp / "weights.bin"
                weights.write_bytes(os.urandom(SIZE))
                from huggingface_hub import HfApi

                api = HfApi(endpoint=hub.url, token=token)
                api.create_repo("bench-user/dl")
                api.upload_file(path_or_fileobj=str(weights), path_in_repo="weights.bin", repo_id="bench-user/dl")

                port = free_port()
                for sub in ("body", "proxy", "fcgi", "uwsgi", "scgi"):
                    (tmp / sub).mkdir()
                user = "user root;" if os.geteuid() == 0 else ""
                (tmp / "nginx.conf").write_text(NGINX.format(user=user, tmp=tmp, port=port, app_port=hub.port))
                proc = subprocess.Popen([nginx, "-c", str(tmp / "nginx.conf"), "-p", str(tmp)])
                try:
                    front = f"http://127.0.0.1:{port}"
                    for _ in range(100):
                        try:
                            httpx.get(f"{front}/livez")
                            break
                        except httpx.TransportError:
                            time.sleep(0.05)
                    auth = {"Authorization": f"Bearer {token}"}
                    resolve = f"{front}/bench-user/dl/resolve/main/weights.bin"
                    with httpx.Client(timeout=600) as client:
                        presigned = client.get(resolve, headers=auth).headers["location"]
                        hub_times, store_times = [], []
                        for _ in range(ROUNDS):
                            store_times.append(fetch(client, presigned))
                            hub_times.append(fetch(client, resolve, auth))
                finally:
                    proc.terminate()
                    proc.wait(timeout=10)
        finally:
            moto.terminate()
            moto.wait(timeout=30)
    mib = SIZE / 2**20
    best_store, best_hub = min(store_times), min(hub_times)
    print(f"file: {mib:.0f} MiB, best of {ROUNDS}")
    print(f"store directly (presigned GET)        {mib / best_store:8.1f} MiB/s  {best_store:6.2f} s")
    print(f"through nginx and the hub (302, GET)  {mib / best_hub:8.1f} MiB/s  {best_hub:6.2f} s")
    print(f"hub path / store directly: {best_store / best_hub:.3f}x (goal >= 0.9x)")


if __name__ == "__main__":
    main()
