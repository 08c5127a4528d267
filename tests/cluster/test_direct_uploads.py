"""LFS bytes in S3 mode go from the client to the object store: the web processes carry metadata only.

What a web process received is measured by the kernel: ``/proc/<pid>/io``
``rchar`` (through psutil's ``io_counters().read_chars``) counts every byte its
read calls returned, from sockets and files alike, for the whole process and
its children. Had a 200 MB upload passed through one, its count would have
grown by at least 200 MB; nginx's own logs would not say what the app tier read.
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
import uuid

import httpx
import psutil
import pytest

huggingface_hub = pytest.importorskip("huggingface_hub")
from huggingface_hub import HfApi, constants, hf_hub_download  # noqa: E402

pytestmark = [pytest.mark.cluster, pytest.mark.live, pytest.mark.slow, pytest.mark.timeout(900)]

MB = 1000 * 1000


def unique(name: str) -> str:
    return f"{name}{uuid.uuid4().hex[:6]}"


@pytest.fixture
def lfs_client(cluster, monkeypatch, tmp_path):
    # HF_HUB_DISABLE_XET=1: the LFS path (Xet sends xorbs to the hub's CAS endpoints: docs/xet.md).
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    return tmp_path


def web_processes(cluster) -> dict[str, list[psutil.Process]]:
    found = {}
    for program in ("web1", "web2"):
        main = psutil.Process(int(cluster.ctl("pid", program).strip()))
        found[program] = [main, *main.children(recursive=True)]
    return found


def received(processes: dict[str, list[psutil.Process]]) -> dict[str, int]:
    return {program: sum(p.io_counters().read_chars for p in procs) for program, procs in processes.items()}


def big_file(path, size: int) -> str:
    digest = hashlib.sha256()
    block = os.urandom(MB)
    with open(path, "wb") as handle:
        for index in range(size // MB):
            chunk = index.to_bytes(8, "big") + block[8:]  # no two blocks alike
            handle.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def commits(api: HfApi, repo_id: str) -> list[str]:
    return [entry.commit_id for entry in api.list_repo_commits(repo_id)]


def test_200_mb_upload_and_download_through_nginx_never_pass_through_a_web_process(cluster, lfs_client):
    owner = unique("s3u")
    token = cluster.create_token(owner)
    api = HfApi(endpoint=cluster.url, token=token)
    repo_id = f"{owner}/big-direct"
    api.create_repo(repo_id)
    path = lfs_client / "model.safetensors"
    size = 200 * MB
    oid = big_file(path, size)

    # A small LFS file first, so the count below is not the web processes' first imports and connections.
    (lfs_client / "warm.safetensors").write_bytes(os.urandom(MB))
    api.upload_file(
        path_or_fileobj=str(lfs_client / "warm.safetensors"), path_in_repo="warm.safetensors", repo_id=repo_id
    )
    processes = web_processes(cluster)
    before = received(processes)
    api.upload_file(path_or_fileobj=str(path), path_in_repo="model.safetensors", repo_id=repo_id)
    downloaded = hf_hub_download(repo_id, "model.safetensors", endpoint=cluster.url, token=token, cache_dir=lfs_client)
    after = received(processes)

    digest = hashlib.sha256()
    with open(downloaded, "rb") as handle:
        while chunk := handle.read(8 * MB):
            digest.update(chunk)
    assert digest.hexdigest() == oid
    carried = {program: after[program] - before[program] for program in after}
    print(f"bytes the web processes read during the 200 MB upload and download: {carried}")  # for docs (-s)
    # Metadata only: the batch, completion, verify and commit calls, the download's redirect (a few MB
    # of requests, database and Redis answers), where carrying the file would have read 200 MB or more.
    assert all(count < size // 10 for count in carried.values()), carried
    # The 200 MB object was hashed by the housekeeping worker, not in a web request.
    assert "lfs.verify_staged[" in cluster.log("housekeeping")


def test_web_processes_killed_during_verify_leave_no_revision_and_the_retry_succeeds(cluster, lfs_client):
    """kill -9 both web processes while the client waits on verify (a worker is hashing the object).

    The meaningful moment with direct uploads: the bytes are in the store, the
    verdict is the worker's, and the client's verify call dies with its web
    process. supervisord restarts the web processes; the client's retry (its
    own backoff on 502, or the upload run again) finds the worker's verdict.
    """
    owner = unique("s3k")
    token = cluster.create_token(owner)
    api = HfApi(endpoint=cluster.url, token=token)
    repo_id = f"{owner}/killed-direct"
    api.create_repo(repo_id)
    path = lfs_client / "model.safetensors"
    oid = big_file(path, 150 * MB)
    initial = commits(api, repo_id)
    worker_log = len(cluster.log("housekeeping"))

    outcome: dict = {}

    def upload() -> None:
        try:
            api.upload_file(path_or_fileobj=str(path), path_in_repo="model.safetensors", repo_id=repo_id)
            outcome["ok"] = True
        except Exception as exc:  # noqa: BLE001 - the test retries and reports it
            outcome["error"] = exc

    thread = threading.Thread(target=upload)
    thread.start()
    deadline = time.monotonic() + 300
    while "lfs.verify_staged[" not in cluster.log("housekeeping")[worker_log:]:
        assert time.monotonic() < deadline and thread.is_alive(), outcome
        time.sleep(0.1)
    for program in ("web1", "web2"):
        os.killpg(int(cluster.ctl("pid", program).strip()), signal.SIGKILL)  # kill -9; supervisord restarts it
    thread.join(timeout=600)
    if "ok" not in outcome:  # the client's own retries ran out before the web processes were back: run it again
        deadline = time.monotonic() + 120
        while httpx.get(f"{cluster.url}/readyz", timeout=30).status_code != 200:
            assert time.monotonic() < deadline, "the web processes did not come back"
            time.sleep(1)
        api.upload_file(path_or_fileobj=str(path), path_in_repo="model.safetensors", repo_id=repo_id)
    # One new revision, the client's whole commit: nothing partial was left by the killed requests.
    after = commits(api, repo_id)
    assert len(after) == len(initial) + 1 and after[1:] == initial, (initial, after, outcome)
    info = api.get_paths_info(repo_id, ["model.safetensors"])[0]
    assert info.lfs.sha256 == oid
