"""The stock huggingface_hub and transformers, pointed at a live hub by HF_ENDPOINT and nothing else.

Each client run is a subprocess (``hf_client_script.py``) whose environment
sets ``HF_ENDPOINT``, ``HF_HUB_CACHE`` (a fresh temp folder) and
``HF_HUB_DISABLE_TELEMETRY=1``: the libraries read these at import, so this is
exactly a user's shell, and nothing leaks into the test process.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from models_app.repos.initial import GITATTRIBUTES

pytestmark = [pytest.mark.live, pytest.mark.slow]

SCRIPT = Path(__file__).with_name("hf_client_script.py")


def run_client(endpoint: str, cache: Path, *args: str, timeout: int = 240) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_", "DJANGO_"))}
    env.update({"HF_ENDPOINT": endpoint, "HF_HUB_CACHE": str(cache), "HF_HUB_DISABLE_TELEMETRY": "1"})
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-bert")
    built = run_client("http://127.0.0.1:9", folder.parent / "unused-cache", "build", str(folder))
    return folder, built["logits"]


@pytest.fixture(scope="module")
def hub_model(live_hub, tiny_bert, tmp_path_factory):
    """alice/reuse-bert: v1 tags the first revision; main has one more (a README)."""
    folder, logits = tiny_bert
    v1 = live_hub.manage("publish_folder", "alice/reuse-bert", str(folder), "--tag", "v1").strip()
    readme = tmp_path_factory.mktemp("readme")
    (readme / "README.md").write_text("---\nlicense: mit\n---\n# tiny bert\n")
    main = live_hub.manage("publish_folder", "alice/reuse-bert", str(readme)).strip()
    live_hub.manage("publish_folder", "alice/reuse-private-bert", str(folder), "--private")
    return {"v1": v1, "main": main, "folder": folder, "logits": logits}


@pytest.mark.parametrize("which", ["main", "v1", "sha"])
def test_transformers_loads_by_branch_tag_and_sha(live_hub, hub_model, tmp_path, which):
    revision = hub_model["v1"] if which == "sha" else which
    loaded = run_client(
        live_hub.url, tmp_path / "cache", "load", "alice/reuse-bert", revision, "", str(hub_model["folder"])
    )
    # Bit for bit what the original files give in the same process, and what the model gave when it was built.
    assert loaded["logits"] == loaded["original_logits"]
    assert loaded["logits"][0] == pytest.approx(hub_model["logits"][0], abs=1e-6)


def test_snapshot_download_has_every_file(live_hub, hub_model, tmp_path):
    snap = run_client(live_hub.url, tmp_path / "cache", "snapshot", "alice/reuse-bert", "v1")["files"]
    original = {p.name: p.read_bytes().hex() for p in hub_model["folder"].iterdir()}
    # and the .gitattributes of the repo's initial commit, as on the HF hub
    assert snap == original | {".gitattributes": GITATTRIBUTES.hex()}
    at_main = run_client(live_hub.url, tmp_path / "cache2", "snapshot", "alice/reuse-bert", hub_model["main"])["files"]
    assert set(at_main) == set(original) | {"README.md", ".gitattributes"}


def test_hf_hub_download_and_missing_file(live_hub, hub_model, tmp_path):
    got = run_client(live_hub.url, tmp_path / "cache", "download", "alice/reuse-bert", "config.json")
    assert bytes.fromhex(got["bytes"]) == (hub_model["folder"] / "config.json").read_bytes()
    missing = run_client(live_hub.url, tmp_path / "cache", "download", "alice/reuse-bert", "nope.bin")
    assert "EntryNotFoundError" in missing["error"]
    revision = run_client(live_hub.url, tmp_path / "cache", "download", "alice/reuse-bert", "config.json", "v9")
    assert "RevisionNotFoundError" in revision["error"]


def test_private_model_needs_a_read_token(live_hub, hub_model, tmp_path):
    token = live_hub.create_token("alice", "read")
    result = run_client(
        live_hub.url, tmp_path / "cache", "private", "alice/reuse-private-bert", token, str(hub_model["folder"])
    )
    assert result["with_token"]["logits"] == result["with_token"]["original_logits"]
    assert "RepositoryNotFoundError" in result["without_token"]
    assert "RepositoryNotFoundError" in result["info_without_token"]


def test_hf_api_read_calls_parse(live_hub, hub_model, tmp_path):
    token = live_hub.create_token("alice", "write")
    got = run_client(live_hub.url, tmp_path / "cache", "api", "alice/reuse-bert", "v1", token)
    assert got["sha"] == hub_model["main"] and got["tag_sha"] == hub_model["v1"]
    files = {p.name for p in hub_model["folder"].iterdir()} | {"README.md", ".gitattributes"}
    assert set(got["siblings"]) == files
    assert got["card_license"] == "mit"
    assert {path for kind, path, _ in got["tree"] if kind == "RepoFile"} == files
    assert all(has_commit for kind, _, has_commit in got["tree"] if kind == "RepoFile")
    assert got["branches"] == [["main", hub_model["main"]]] and got["tags"] == [["v1", hub_model["v1"]]]
    # newest first, down to the repo's initial commit
    assert got["commits"][:2] == [hub_model["main"], hub_model["v1"]] and len(got["commits"]) == 3
    assert got["found"] == ["alice/reuse-bert"]
    assert "alice/reuse-private-bert" not in got["by_author"] and "alice/reuse-bert" in got["by_author"]
    assert got["likes_after"] == 1 and got["likes_end"] == 0


def test_server_headers_over_asgi(live_hub, hub_model):
    """The ASGI front (not Django's fallback view) answers HEAD, Range, If-None-Match and quoted revisions."""
    url = f"{live_hub.url}/alice/reuse-bert/resolve/v1/model.safetensors"
    data = (hub_model["folder"] / "model.safetensors").read_bytes()
    etag = f'"{hashlib.sha256(data).hexdigest()}"'
    head = httpx.head(url)
    assert head.status_code == 200 and head.headers["etag"] == etag
    assert head.headers["x-repo-commit"] == hub_model["v1"] and int(head.headers["x-linked-size"]) == len(data)
    part = httpx.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == data[10:20]
    assert httpx.get(url, headers={"Range": f"bytes={len(data)}-"}).status_code == 416
    assert httpx.get(url, headers={"If-None-Match": etag}).status_code == 304
    quoted = httpx.get(f"{live_hub.url}/alice/reuse-bert/resolve/refs%2Fpr%2F1/config.json")
    assert quoted.status_code == 404 and quoted.headers["x-error-code"] == "RevisionNotFound"
    tree = httpx.get(f"{live_hub.url}/api/models/alice/reuse-bert/tree/refs%2Fpr%2F1/sub")
    assert tree.headers["x-error-code"] == "RevisionNotFound"


class CuttingProxy:
    """A loopback TCP proxy that cuts the first download of one file after ``cut_after`` bytes."""

    def __init__(self, upstream_port: int, target: bytes, cut_after: int):
        self.upstream_port, self.target, self.cut_after = upstream_port, target, cut_after
        self.requests: list[bytes] = []
        self.cut_done = False
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(client,), daemon=True).start()

    def handle(self, client: socket.socket):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(65536)
            if not chunk:
                client.close()
                return
            head += chunk
        header, _, body = head.partition(b"\r\n\r\n")
        lines = [line for line in header.split(b"\r\n") if not line.lower().startswith(b"connection:")]
        self.requests.append(header)
        # One request per connection keeps the relay simple: the client reconnects for the next one.
        request = b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body
        cut = lines[0].startswith(b"GET ") and self.target in lines[0] and not self.cut_done
        self.cut_done = self.cut_done or cut
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        upstream.sendall(request)
        sent = 0
        while chunk := upstream.recv(65536):
            if cut and sent + len(chunk) > self.cut_after:
                client.sendall(chunk[: self.cut_after - sent])
                break
            client.sendall(chunk)
            sent += len(chunk)
        upstream.close()
        client.close()

    def close(self):
        self.server.close()


def test_interrupted_download_resumes_with_range(live_hub, tmp_path):
    # The client writes in 10 MiB chunks, so only a break after the first chunk leaves something to resume from.
    folder = tmp_path / "big"
    folder.mkdir()
    data = os.urandom(24 * 1024 * 1024)
    (folder / "model.safetensors").write_bytes(data)
    live_hub.manage("publish_folder", "alice/reuse-big-file", str(folder))
    proxy = CuttingProxy(live_hub.port, b"/model.safetensors", cut_after=15 * 1024 * 1024)
    try:
        endpoint = f"http://127.0.0.1:{proxy.port}"
        got = run_client(endpoint, tmp_path / "cache", "download", "alice/reuse-big-file", "model.safetensors")
    finally:
        proxy.close()
    assert got["sha256"] == hashlib.sha256(data).hexdigest()
    assert proxy.cut_done
    resumed = [r for r in proxy.requests if r.startswith(b"GET ") and b"range: bytes=" in r.lower()]
    assert resumed, [r.split(b"\r\n")[0] for r in proxy.requests]
    start = int(resumed[0].lower().split(b"range: bytes=")[1].split(b"-")[0])
    assert 0 < start < len(data)


def test_a_lost_blob_is_a_json_500_not_a_broken_body(live_hub, tmp_path):
    folder = tmp_path / "lost"
    folder.mkdir()
    data = b"this blob will go missing " + os.urandom(16)
    (folder / "weights.bin").write_bytes(data)
    live_hub.manage("publish_folder", "alice/reuse-lost-blob", str(folder))
    sha = hashlib.sha256(data).hexdigest()
    live_hub.blob_path(sha).unlink()
    response = httpx.get(f"{live_hub.url}/alice/reuse-lost-blob/resolve/main/weights.bin")
    assert response.status_code == 500
    assert response.json()["error"].startswith("This file's content is missing")
    assert httpx.head(f"{live_hub.url}/alice/reuse-lost-blob/resolve/main/weights.bin").status_code == 200
