"""Publishing with the unmodified huggingface_hub (hf_xet installed, no switches): every file goes through Xet.

Each call runs in a fresh process with only HF_ENDPOINT, HF_TOKEN and cache
folders set, as a user would.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.live import ROOT, LiveHub
from tests.xet import hf_client

pytest.importorskip("hf_xet", reason="needs hf_xet, a default dependency of huggingface_hub")

BIG = 70 * 1024 * 1024
REPO = "alice/xet-model"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    with LiveHub(tmp_path_factory.mktemp("xet-hf-hub")) as live:
        live.token = live.create_token("alice", "write")
        live.home = tmp_path_factory.mktemp("xet-hf-user")
        yield live


def hf(hub: LiveHub, action: str, **args) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "tests.xet.hf_client", action, json.dumps(args)],
        cwd=ROOT,
        env=hf_client.environment(hub.url, hub.token, hub.home),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:] + "\n--- hub log ---\n" + hub.log("web")[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["xet"] is True  # the client really took the Xet path
    return answer


def manifest(hub: LiveHub, repo_id: str) -> dict[str, str]:
    owner, name = repo_id.split("/")
    code = (
        "import json; from models_app.models import Ref, RepoFile\n"
        f"ref = Ref.objects.get(repo__owner__username={owner!r}, repo__name={name!r}, name='main')\n"
        "print(json.dumps(dict(RepoFile.objects.filter(revision=ref.revision).values_list('path', 'blob_id'))))\n"
    )
    return json.loads(hub.manage("shell", "-c", code).strip().splitlines()[-1])


def stored(hub: LiveHub, sha256: str) -> bytes:
    return hub.blob_path(sha256).read_bytes()


def xorb_bytes(hub: LiveHub) -> int:
    root = hub.data_dir / "xet" / "xorbs"
    return sum(p.stat().st_size for p in root.rglob("*.xorb")) if root.exists() else 0


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_upload_folder_then_a_small_edit(hub, tmp_path):
    hf(hub, "create_repo", repo_id=REPO)
    folder = tmp_path / "model"
    folder.mkdir()
    weights = bytearray(np.random.default_rng(5).bytes(BIG))
    (folder / "model.safetensors").write_bytes(weights)
    (folder / "config.json").write_text('{"model_type": "bert", "hidden_size": 16}\n')
    (folder / "README.md").write_text("---\nlicense: mit\n---\n# Xet model\n")
    hf(hub, "upload_folder", repo_id=REPO, folder=str(folder))

    files = manifest(hub, REPO)
    for path in ("model.safetensors", "config.json", "README.md"):
        local = (folder / path).read_bytes()
        assert files[path] == sha(local)
        assert stored(hub, files[path]) == local
    before = xorb_bytes(hub)
    assert before >= BIG

    weights[BIG // 3 : BIG // 3 + 64] = b"\xff" * 64
    (folder / "model.safetensors").write_bytes(weights)
    hf(hub, "upload_file", repo_id=REPO, path=str(folder / "model.safetensors"), path_in_repo="model.safetensors")
    second = xorb_bytes(hub) - before
    print(f"\nsecond revision: {second:,} bytes of xorbs for a {BIG:,}-byte file")
    assert second < BIG // 50
    files = manifest(hub, REPO)
    assert files["model.safetensors"] == sha(bytes(weights))
    assert stored(hub, files["model.safetensors"]) == bytes(weights)


def test_push_to_hub_publishes_through_xet(hub):
    hf(hub, "create_repo", repo_id="alice/tiny-bert")
    hf(hub, "push_model", repo_id="alice/tiny-bert")
    files = manifest(hub, "alice/tiny-bert")
    assert {"config.json", "model.safetensors"} <= set(files)
    assert len(stored(hub, files["model.safetensors"])) > 1000


def test_snapshot_download_gets_the_same_bytes(hub, tmp_path):
    # Its own repo, so the test runs alone too (it read test_upload_folder_then_a_small_edit's repo).
    hf(hub, "create_repo", repo_id="alice/xet-download")
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(np.random.default_rng(7).bytes(3 * 1024 * 1024))
    (folder / "config.json").write_text('{"model_type": "bert"}\n')
    hf(hub, "upload_folder", repo_id="alice/xet-download", folder=str(folder))
    path = Path(hf(hub, "snapshot_download", repo_id="alice/xet-download", cache_dir=str(tmp_path / "dl"))["path"])
    files = manifest(hub, "alice/xet-download")
    assert set(files) == {"model.safetensors", "config.json", ".gitattributes"}  # .gitattributes: the initial commit
    for name, digest in ((name, files[name]) for name in ("model.safetensors", "config.json")):
        assert sha((path / name).read_bytes()) == digest == sha((folder / name).read_bytes())


def test_one_large_file_is_assembled_while_its_xorbs_arrive(hub, tmp_path):
    """A single-file upload: the hub hashes and writes the file as the xorbs come, not after the shard."""
    hf(hub, "create_repo", repo_id="alice/assembled")
    data = np.random.default_rng(11).bytes(20 * 1024 * 1024)
    (tmp_path / "weights.bin").write_bytes(data)
    hf(hub, "upload_file", repo_id="alice/assembled", path=str(tmp_path / "weights.bin"), path_in_repo="weights.bin")
    shard_lines = [line for line in hub.log("web").splitlines() if "xet shard:" in line]
    assert "assembled while the xorbs arrived" in shard_lines[-1]
    files = manifest(hub, "alice/assembled")
    assert files["weights.bin"] == sha(data) and stored(hub, files["weights.bin"]) == data
