"""CPU the web process spends per GiB uploaded over LFS in S3 mode, against the one-machine path, same run.

Two live hubs on loopback, each one web process (``tests.live.LiveHub``):

- one-machine: local storage; the LFS PUT streams through the web process,
  which hashes and writes every byte (the baseline);
- S3 mode: moto's S3 server, Redis, and a Celery worker; the client PUTs
  straight to presigned store URLs (multipart from 64 MiB) and the worker
  hashes the object at verify (``models_app/hf/lfs_staged.py``).

The same client call, ``HfApi.upload_file`` over LFS (``HF_HUB_DISABLE_XET=1``),
uploads a fresh random file to each. The web process's CPU time (user +
system, from the kernel through psutil, children included) is read before and
after, around the measured upload (a small one goes first). The web process also
burns CPU while idle (the room relay and Redis connections poll): that rate,
measured for 10 s just before, times the upload's duration, is subtracted for
the "net" figure (the S3 upload lasts longer, mostly moto hashing and copying
in Python). Goal (issue #22): at most 0.05x, on the net figure. The worker's CPU is printed too: the
hashing moved there, it did not vanish.

Run: ``python bench/bench_s3_direct.py`` (``BENCH_MB`` sets the file size, default 256).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from tests.live import LiveHub, free_port, start_redis  # noqa: E402

SIZE = int(os.environ.get("BENCH_MB", "256")) * 1024 * 1024
CHUNK = 1024 * 1024
BUCKET = "bench-blobs"
IDLE_SECONDS = 10


def random_file(path: Path) -> Path:
    with open(path, "wb") as handle:
        for _ in range(SIZE // CHUNK):
            handle.write(os.urandom(CHUNK))
    return path


def cpu_seconds(pid: int) -> float:
    main = psutil.Process(pid)
    total = 0.0
    for proc in (main, *main.children(recursive=True)):
        times = proc.cpu_times()
        total += times.user + times.system
    return total


def start_moto(folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = open(folder / "moto.log", "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)  # noqa: S310 - loopback
            break
        except OSError:
            time.sleep(0.1)
    import boto3

    boto3.client(
        "s3", endpoint_url=url, aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1"
    ).create_bucket(Bucket=BUCKET)
    return proc, url


def s3_env(moto_url: str) -> dict:
    """A hub's environment for S3 mode against ``start_moto``'s server and bucket."""
    return {
        "HUB_STORAGE": "s3",
        "AWS_S3_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
    }


def upload_cost(hub: LiveHub, path: Path, worker: str | None = None) -> tuple[float, float, float, float]:
    """(seconds, web CPU s, web CPU s less its idle rate over that time, worker CPU s) for one ``upload_file``."""
    from huggingface_hub import HfApi

    token = hub.create_token("bench-user", "write")
    api = HfApi(endpoint=hub.url, token=token)
    api.create_repo("bench-user/bench", exist_ok=True)
    # First an 11 MiB object (in S3 mode multipart and hashed by the worker, as the measured one), so the
    # figure is the upload's cost, not the web process's first imports and connections (botocore sets up
    # each operation's model and endpoint rules on its first use), which a long-running process has behind it.
    warm = path.with_name("warm.safetensors")
    warm.write_bytes(os.urandom(11 * CHUNK))
    api.upload_file(path_or_fileobj=str(warm), path_in_repo="warm.safetensors", repo_id="bench-user/bench")
    web = hub.processes["web"].pid
    worker_pid = hub.processes[worker].pid if worker else None
    # What the web process burns doing nothing (its room relay and Redis connections poll), per second.
    idle_start = cpu_seconds(web)
    time.sleep(IDLE_SECONDS)
    idle_rate = (cpu_seconds(web) - idle_start) / IDLE_SECONDS
    web_before = cpu_seconds(web)
    worker_before = cpu_seconds(worker_pid) if worker_pid else 0.0
    start = time.perf_counter()
    api.upload_file(path_or_fileobj=str(path), path_in_repo="model.safetensors", repo_id="bench-user/bench")
    elapsed = time.perf_counter() - start
    web_cpu = cpu_seconds(web) - web_before
    worker_cpu = (cpu_seconds(worker_pid) - worker_before) if worker_pid else 0.0
    return elapsed, web_cpu, max(0.0, web_cpu - idle_rate * elapsed), worker_cpu


def main() -> None:
    os.environ["HF_HUB_DISABLE_XET"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    redis_binary = shutil.which("redis-server")
    if not redis_binary:
        sys.exit("bench_s3_direct: needs redis-server (the verdict of the worker's hash travels through the cache)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        moto, moto_url = start_moto(tmp)
        redis_port = free_port()
        redis = start_redis(redis_binary, redis_port, tmp)
        try:
            with LiveHub(tmp / "local") as hub:
                local = upload_cost(hub, random_file(tmp / "local.bin"))
            env = {
                **s3_env(moto_url),
                "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                "HUB_LFS_MULTIPART_THRESHOLD": "8MiB",  # the warm-up object goes in parts too
            }
            with LiveHub(tmp / "s3", extra_env=env) as hub:
                hub.start_worker()
                s3 = upload_cost(hub, random_file(tmp / "s3.bin"), worker="worker")
        finally:
            redis.terminate()
            moto.terminate()
            redis.wait(timeout=30)
            moto.wait(timeout=30)
    gib = SIZE / 2**30
    print(f"file: {SIZE // 2**20} MiB, HfApi.upload_file over LFS; web CPU s/GiB (raw, and less the idle rate)")
    for label, (elapsed, raw, net, hashing) in (("one-machine (PUT through the web)", local), ("S3 mode (direct)", s3)):
        extra = f"  worker hashing {hashing / gib:.2f} s/GiB" if hashing else ""
        print(f"{label:34} raw {raw / gib:6.2f}  net {net / gib:6.2f}  {elapsed:6.1f} s{extra}")
    print(
        f"web CPU per GiB, S3 mode / one-machine: raw {s3[1] / local[1]:.3f}x, net {s3[2] / local[2]:.3f}x (goal <= 0.05x)"
    )


if __name__ == "__main__":
    main()
