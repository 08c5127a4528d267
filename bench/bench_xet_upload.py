"""1 GiB upload through Xet against the same upload through the LFS path, in the same run.

Starts a hub on loopback (tests.live.LiveHub), then uploads one file of random
bytes (XET_BENCH_MB, default 1024):

- Xet: the real hf_xet client in a subprocess, as huggingface_hub calls it
  (token, chunking + sha256 on the client, xorbs, shard; the hub verifies each
  xorb and rebuilds the file into a blob before the shard call returns).
- LFS: what huggingface_hub does with HF_HUB_DISABLE_XET=1: sha256 on the
  client, ``POST /{repo}.git/info/lfs/objects/batch``, then one streamed PUT.
  When this hub has no LFS batch route yet, the baseline is the floor of any
  upload path instead: sha256 on the client plus the hub's Ingest of the same
  file (hash + write, no network), and the script says so.

Then, on a fresh hub (so no chunk is known to it), the call an author makes:
``HfApi.upload_file`` of the same file in a fresh process, once as installed
(Xet) and once with ``HF_HUB_DISABLE_XET=1`` (huggingface_hub's LFS path),
each timed from preupload to commit. That ratio is the issue's target: the
same upload through Xet and through the LFS path. The protocol-level lines
above it isolate the transfer itself (no preupload or commit, and a lean
hand-written LFS client rather than huggingface_hub's).

Also times the same hf_xet client against a CAS that only discards bytes, to
separate the client's own cost (chunking, hashing, compression attempts) from
the hub's, and prints a lower bound for any Xet upload on this machine: the
client's CPU plus the hashing the hub must do (BLAKE3 of every chunk to check
the xorbs, sha256 of the file for its blob), spread perfectly over the cores. Prints seconds, MB/s and the ratio xet / baseline. Run: python bench/bench_xet_upload.py
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.live import ROOT, LiveHub  # noqa: E402
from tests.xet import hf_client  # noqa: E402

SIZE = int(os.environ.get("XET_BENCH_MB", "1024")) * 1024 * 1024


def make_file(path: Path) -> None:
    rng = np.random.default_rng(1)
    with open(path, "wb") as handle:
        for _ in range(SIZE // (64 << 20)):
            handle.write(rng.bytes(64 << 20))
        handle.write(rng.bytes(SIZE % (64 << 20)))


def sha256_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def xet_upload(hub: LiveHub, token: str, path: Path, cache: Path) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env["HF_XET_CACHE"] = str(cache)
    url = f"{hub.url}/api/models/alice/bench/xet-write-token/main"
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "tests.xet.xet_client", url, token, str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - start, json.loads(result.stdout.splitlines()[0])["sha256"]


class _NullCas(BaseHTTPRequestHandler):
    """Answers what hf_xet needs and discards every body: the client's own cost, with no server work."""

    protocol_version = "HTTP/1.1"

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _any(self) -> None:
        # readinto one reused buffer: no allocation or copy per read, so the null CAS takes as little
        # of the two cores as it can from the client it measures.
        length = int(self.headers.get("Content-Length") or 0)
        sink = memoryview(bytearray(1 << 20))
        while length:
            read = self.rfile.readinto(sink[: min(length, len(sink))])
            if not read:
                break
            length -= read
        if "xet-write-token" in self.path:
            cas = f"http://127.0.0.1:{self.server.server_port}"
            token = {"accessToken": "x", "exp": int(time.time()) + 3600, "casUrl": cas}
            return self._answer(200, json.dumps(token).encode())
        if self.path.startswith("/v1/xorbs/"):
            return self._answer(200, b'{"was_inserted": true}')
        if self.path == "/v1/shards":
            return self._answer(200, b'{"result": 1}')
        return self._answer(404, b"{}")

    do_GET = do_POST = _any

    def log_message(self, *args) -> None:
        pass


def client_floor(path: Path, cache: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of the hf_xet client against a CAS that discards everything."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NullCas)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
        env["HF_XET_CACHE"] = str(cache)
        url = f"http://127.0.0.1:{server.server_port}/api/models/a/b/xet-write-token/main"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tests.xet.xet_client", url, "x", str(path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            check=True,
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    finally:
        server.shutdown()


def required_hashing(path: Path) -> float:
    """CPU seconds of the hashing the hub cannot skip: BLAKE3 of every chunk (xorb checks), sha256 of the file."""
    from models_app.xet.hashing import chunk_hash

    spent, sha = 0.0, hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(64 << 20):  # reading is not counted: only the hashes
            start = time.process_time()
            view = memoryview(block)
            for at in range(0, len(view), 64 << 10):  # hf_xet's chunks average 64 KiB
                chunk_hash(view[at : at + (64 << 10)])
            sha.update(block)
            spent += time.process_time() - start
    return spent


def lfs_upload(hub: LiveHub, token: str, path: Path) -> float | None:
    """The LFS path, or None when the hub has no LFS batch route."""
    headers = {"Authorization": f"Bearer {token}"}
    start = time.perf_counter()
    sha = sha256_of(path)
    with httpx.Client(timeout=600) as client:
        batch = client.post(
            f"{hub.url}/alice/bench.git/info/lfs/objects/batch",
            headers={**headers, "Accept": "application/vnd.git-lfs+json"},
            json={
                "operation": "upload",
                "transfers": ["basic"],
                "objects": [{"oid": sha, "size": SIZE}],
                "hash_algo": "sha256",
            },
        )
        if batch.status_code == 404:
            return None
        batch.raise_for_status()
        action = batch.json()["objects"][0].get("actions", {}).get("upload")
        if action:
            with open(path, "rb") as handle:
                put = client.put(action["href"], headers=action.get("header") or headers, content=handle)
            put.raise_for_status()
    return time.perf_counter() - start


def create_repo(hub: LiveHub, name: str) -> None:
    hub.manage(
        "shell",
        "-c",
        "from hub.models import User; from models_app.repos.rules import repo_create; "
        f"repo_create(User.objects.get(username='alice'), {name!r})",
    )


def hf_upload_file(hub: LiveHub, token: str, path: Path, repo: str, home: Path, *, xet: bool) -> float:
    """Seconds of ``HfApi.upload_file`` (preupload, the upload, the commit) in a fresh process, as an author runs it.

    ``xet=False`` is the same call with ``HF_HUB_DISABLE_XET=1``: huggingface_hub's own LFS path
    (sha256 in Python, batch, one PUT, commit).
    """
    env = hf_client.environment(hub.url, token, home, xet=xet)
    env["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    args = {"repo_id": f"alice/{repo}", "path": str(path), "path_in_repo": path.name}
    result = subprocess.run(
        [sys.executable, "-m", "tests.xet.hf_client", "upload_file", json.dumps(args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["xet"] is xet, f"the client took the wrong path: {answer}"
    return answer["seconds"]


def client_comparison(path: Path, tmp: Path) -> tuple[float, float]:
    """(Xet, LFS) seconds of the same ``upload_file`` call, on a fresh hub that holds none of the file's chunks."""
    with LiveHub(tmp / "hub-client", extra_env={"LOG_LEVEL": "WARNING"}) as hub:
        token = hub.create_token("alice", "write")
        create_repo(hub, "by-xet")
        create_repo(hub, "by-lfs")
        xet = hf_upload_file(hub, token, path, "by-xet", tmp / "user", xet=True)
        sha = sha256_of(path)
        hub.blob_path(sha).unlink()  # so the LFS batch asks for the bytes again
        lfs = hf_upload_file(hub, token, path, "by-lfs", tmp / "user", xet=False)
        assert sha256_of(hub.blob_path(sha)) == sha, "stored blob differs from the file"
    return xet, lfs


def ingest_floor(hub: LiveHub, path: Path) -> float:
    """Client sha256 + the hub's own Ingest of the file, in a process of the hub's settings."""
    code = (
        "import time,sys; from models_app.models import ModelRepo; from models_app.publish.uploads import Ingest, iter_file;"
        "repo=ModelRepo.objects.get(name='bench'); t=time.perf_counter();"
        f"Ingest(repo).add('floor.bin', iter_file(open({str(path)!r},'rb')));"
        "print(time.perf_counter()-t)"
    )
    start = time.perf_counter()
    sha256_of(path)
    client_side = time.perf_counter() - start
    return client_side + float(hub.manage("shell", "-c", code).strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="xet-bench-") as tmp:
        tmp = Path(tmp)
        path = tmp / "weights.bin"
        make_file(path)
        floor, client_cpu = client_floor(path, tmp / "floor-cache")
        hub_hashing = required_hashing(path)
        with LiveHub(tmp / "hub", extra_env={"LOG_LEVEL": os.environ.get("XET_BENCH_LOG", "INFO")}) as hub:
            token = hub.create_token("alice", "write")
            create_repo(hub, "bench")
            xet_seconds, sha = xet_upload(hub, token, path, tmp / "cache")
            rebuilt = [line for line in hub.log("web").splitlines() if "xet shard:" in line]
            if os.environ.get("XET_BENCH_LOG"):
                print("\n".join(line for line in hub.log("web").splitlines() if "xet" in line.lower())[-3000:])
            stored = hub.blob_path(sha)
            assert sha256_of(stored) == sha256_of(path), "stored blob differs from the file"
            # The blob now exists: remove it so the baseline stores the bytes again.
            stored.unlink()
            baseline = lfs_upload(hub, token, path)
            label = "LFS batch + PUT"
            if baseline is None:
                label = "floor (no LFS route on this branch): client sha256 + hub Ingest, no network"
                baseline = ingest_floor(hub, path)
        client_xet, client_lfs = client_comparison(path, tmp)
    mb = SIZE / 1e6
    print(f"file: {SIZE / 2**20:.0f} MiB of random bytes")
    print(f"xet upload      : {xet_seconds:6.2f} s  {mb / xet_seconds:7.1f} MB/s")
    for line in rebuilt:
        print(f"  of which the shard call: {line.split('xet shard: ', 1)[1]}")
    print(f"hf_xet alone    : {floor:6.2f} s  {mb / floor:7.1f} MB/s  (same client, a CAS that discards the bytes)")
    print(f"baseline        : {baseline:6.2f} s  {mb / baseline:7.1f} MB/s  ({label})")
    print(f"ratio xet/baseline: {xet_seconds / baseline:.2f}x (the protocols alone)")
    print(
        f"HfApi.upload_file: Xet {client_xet:6.2f} s, LFS (HF_HUB_DISABLE_XET=1) {client_lfs:6.2f} s: "
        f"{client_xet / client_lfs:.2f}x (target <= 1.5x; the same call an author makes, preupload to commit)"
    )
    # Even with a hub that cost nothing but the hashes it must check, the client's CPU and those
    # hashes share this machine's cores: no upload through Xet can take less than this.
    cores = os.cpu_count() or 1
    bound = max(floor, (client_cpu + hub_hashing) / cores)
    print(
        f"lower bound on {cores} cores: hf_xet's CPU {client_cpu:.2f} s + the hub's required hashing "
        f"{hub_hashing:.2f} s (BLAKE3 of the chunks, sha256 of the file), shared perfectly: "
        f"{bound:.2f} s = {bound / baseline:.2f}x of the baseline"
    )


if __name__ == "__main__":
    main()
