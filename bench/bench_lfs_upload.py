"""LFS upload throughput on loopback, as a ratio of the ingest floor measured in the same run.

baseline: hash (sha256) and write the file to a temp file beside the store, then
rename: what ``uploads.Ingest`` must do whatever the transport.
raw PUT: one PUT of the same bytes to a signed upload link, answered by the
streamed route in front of Django (``models_app/lfs_stream.py``).
raw PUT, Django view: the same PUT to a second uvicorn serving Django alone
(same database and store), where Django spools the body to a temp file first.
upload_file: ``HfApi.upload_file`` over LFS (client sha256 pass, preupload,
batch, PUT, commit), with ``HF_HUB_DISABLE_XET=1``.

Each figure is the best of ``BENCH_REPEAT`` runs (default 3): the machines here are shared and noisy.
Run: ``python bench/bench_lfs_upload.py`` (``BENCH_MB`` sets the file size, default 128).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from hub import webserver  # noqa: E402
from tests.live import LiveHub, free_port  # noqa: E402

SIZE = int(os.environ.get("BENCH_MB", "128")) * 1024 * 1024
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
CHUNK = 1024 * 1024


def random_file(folder: Path, name: str) -> Path:
    path = folder / name
    with open(path, "wb") as handle:
        for _ in range(SIZE // CHUNK):
            handle.write(os.urandom(CHUNK))
    return path


def chunks(path: Path):
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def ingest_floor(path: Path, store: Path) -> float:
    start = time.perf_counter()
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=store, delete=False) as out:
        for chunk in chunks(path):
            digest.update(chunk)
            out.write(chunk)
    os.replace(out.name, store / digest.hexdigest())
    return time.perf_counter() - start


def upload_link(hub: LiveHub, token: str, path: Path) -> str:
    oid = hashlib.sha256(path.read_bytes()).hexdigest()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/vnd.git-lfs+json"}
    body = {"operation": "upload", "transfers": ["basic"], "objects": [{"oid": oid, "size": SIZE}]}
    answer = httpx.post(f"{hub.url}/alice/bench.git/info/lfs/objects/batch", content=json.dumps(body), headers=headers)
    return answer.json()["objects"][0]["actions"]["upload"]["href"]


def raw_put(href: str, path: Path) -> float:
    """One PUT; the same object again still streams and hashes every byte (then keeps one copy)."""
    start = time.perf_counter()
    response = httpx.put(href, content=chunks(path), headers={"Content-Length": str(SIZE)}, timeout=600)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.text
    return elapsed


def django_only(hub: LiveHub) -> tuple[subprocess.Popen, str]:
    port = free_port()
    # The hub's own server command (hub/webserver.py), serving Django without the streaming front.
    command = webserver.command("127.0.0.1", port, log_level="warning", app="bench._django_only_app:application")
    proc = subprocess.Popen(command, cwd=ROOT, env={**hub.env, "PYTHONPATH": str(ROOT)})
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + "/healthz")
            break
        except httpx.TransportError:
            time.sleep(0.1)
    return proc, url


def hf_upload(hub: LiveHub, token: str, path: Path) -> float:
    os.environ["HF_HUB_DISABLE_XET"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    from huggingface_hub import HfApi

    api = HfApi(endpoint=hub.url, token=token)
    start = time.perf_counter()
    api.upload_file(path_or_fileobj=str(path), path_in_repo="model.safetensors", repo_id="alice/bench")
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "store").mkdir()
        first = random_file(tmp, "a.bin")
        with LiveHub(tmp / "hub") as hub:
            token = hub.create_token("alice", "write")
            httpx.post(
                f"{hub.url}/api/repos/create", json={"name": "bench"}, headers={"Authorization": f"Bearer {token}"}
            )
            floor = min(ingest_floor(first, tmp / "store") for _ in range(REPEAT))
            href = upload_link(hub, token, first)
            put = min(raw_put(href, first) for _ in range(REPEAT))
            proc, plain_url = django_only(hub)
            try:
                plain = min(raw_put(href.replace(hub.url, plain_url), first) for _ in range(REPEAT))
            finally:
                proc.terminate()
                proc.wait(timeout=30)
            uploads = []
            for number in range(REPEAT):  # a new file each time: a stored object is not uploaded again
                path = random_file(tmp, f"upload-{number}.bin")
                uploads.append(hf_upload(hub, token, path))
                path.unlink()
            upload = min(uploads)
    mb = SIZE / 1e6
    print(f"file: {SIZE // 2**20} MiB")
    print(f"ingest floor (sha256 + write + rename): {mb / floor:7.0f} MB/s  1.00x")
    print(f"raw PUT to the signed link:             {mb / put:7.0f} MB/s  {floor / put:.2f}x")
    print(f"raw PUT, Django view (body spooled):    {mb / plain:7.0f} MB/s  {floor / plain:.2f}x")
    print(f"HfApi.upload_file over LFS:             {mb / upload:7.0f} MB/s  {floor / upload:.2f}x")


if __name__ == "__main__":
    main()
