"""Publishing with the unmodified Hugging Face clients against a live hub on loopback.

huggingface_hub reads HF_ENDPOINT and HF_HUB_DISABLE_XET into ``constants`` at
import time, so besides the environment the tests patch those constants and
pass ``endpoint=``/``token=`` explicitly. Stored bytes are checked straight in
the live hub's blob store; its rows through ``manage.py shell``, as an operator would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

import httpx
import pytest

huggingface_hub = pytest.importorskip("huggingface_hub")
from huggingface_hub import HfApi, constants  # noqa: E402
from huggingface_hub.errors import HfHubHTTPError  # noqa: E402

from tests.initial_commit import GITATTRIBUTES_SHA256  # noqa: E402


@pytest.fixture(scope="module")
def tokens(live_hub) -> dict:
    return {
        "alice": live_hub.create_token("alice", "write"),
        "alice_read": live_hub.create_token("alice", "read"),
        "bob": live_hub.create_token("bob", "write"),
    }


@pytest.fixture
def hf_env(live_hub, tokens, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_ENDPOINT", live_hub.url)
    monkeypatch.setenv("HF_TOKEN", tokens["alice"])
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    # Read at import time by huggingface_hub: patch the constants too.
    monkeypatch.setattr(constants, "ENDPOINT", live_hub.url)
    monkeypatch.setattr(
        constants, "HUGGINGFACE_CO_URL_TEMPLATE", live_hub.url + "/{repo_id}/resolve/{revision}/{filename}"
    )
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    return live_hub


def api_for(hub, token) -> HfApi:
    return HfApi(endpoint=hub.url, token=token)


# What every new repo holds from its initial commit (models_app/repos/initial.py), as on the HF hub.
INITIAL = {".gitattributes": GITATTRIBUTES_SHA256}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hub_state(hub, repo_id: str) -> dict:
    """The tip of main and its manifest, read from the live hub's database."""
    owner, name = repo_id.split("/")
    code = (
        "import json\n"
        "from models_app.models import ModelRepo, Ref, RepoFile, Revision\n"
        f"repo = ModelRepo.objects.get(owner__username={owner!r}, name={name!r})\n"
        "ref = Ref.objects.filter(repo=repo, name='main').first()\n"
        "files = dict(RepoFile.objects.filter(revision=ref.revision).values_list('path', 'blob_id')) if ref else {}\n"
        "runs = ref.revision.validation_runs.count() if ref else 0\n"
        "print(json.dumps({'sha': ref.revision.sha if ref else None, 'private': repo.private, 'files': files,\n"
        "    'revisions': Revision.objects.filter(repo=repo).count(), 'validation_runs': runs}))\n"
    )
    return json.loads(hub.manage("shell", "-c", code).strip().splitlines()[-1])


def stored_bytes(hub, digest: str) -> bytes:
    return hub.blob_path(digest).read_bytes()


def local_files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): sha256(p.read_bytes()) for p in folder.rglob("*") if p.is_file()}


def test_create_repo_exist_ok_and_refusals(hf_env, tokens):
    api = api_for(hf_env, tokens["alice"])
    url = api.create_repo("alice/created", private=True)
    assert url.repo_id == "alice/created" and url == f"{hf_env.url}/alice/created"
    assert api.create_repo("alice/created", exist_ok=True).repo_id == "alice/created"
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.create_repo("alice/created")
    assert excinfo.value.response.status_code == 409 and "already have a model" in str(excinfo.value)
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.create_repo("alice/some-space", repo_type="space", space_sdk="static")
    assert excinfo.value.response.status_code == 400 and "models and datasets only" in str(excinfo.value)
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.create_repo("bob/not-mine")
    assert excinfo.value.response.status_code == 403 and "own namespace" in str(excinfo.value)
    with pytest.raises(HfHubHTTPError) as excinfo:
        api_for(hf_env, tokens["alice_read"]).create_repo("alice/by-reader")
    assert excinfo.value.response.status_code == 403 and "read-only" in str(excinfo.value)
    assert hub_state(hf_env, "alice/created")["private"] is True
    api.delete_repo("alice/created")
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.delete_repo("alice/created")
    assert excinfo.value.response.status_code == 404
    api.delete_repo("alice/created", missing_ok=True)


def test_upload_folder_stores_every_byte_and_reports_the_revision_sha(hf_env, tokens, tmp_path):
    folder = tmp_path / "tiny"
    (folder / "tokenizer").mkdir(parents=True)
    (folder / "README.md").write_text("---\nlicense: mit\nlibrary_name: transformers\n---\n# Tiny\n")
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "tokenizer" / "vocab.txt").write_text("[PAD]\n[UNK]\nhello\n")
    (folder / "model.safetensors").write_bytes(os.urandom(11 * 1024 * 1024))  # > 10 MB: LFS
    api = api_for(hf_env, tokens["alice"])
    api.create_repo("alice/tiny")
    info = api.upload_folder(repo_id="alice/tiny", folder_path=folder, commit_message="First upload")

    state = hub_state(hf_env, "alice/tiny")
    assert state["sha"] == info.oid and info.commit_url.endswith(f"/alice/tiny/commit/{info.oid}")
    assert state["files"] == local_files(folder) | INITIAL
    for path, digest in local_files(folder).items():
        assert sha256(stored_bytes(hf_env, state["files"][path])) == digest
    assert state["revisions"] == 2  # the initial commit and the upload

    # One more file and a deletion; the unchanged files are not sent again.
    added = api.upload_file(path_or_fileobj=b"extra notes\n", path_in_repo="notes/extra.md", repo_id="alice/tiny")
    assert hub_state(hf_env, "alice/tiny")["files"]["notes/extra.md"] == sha256(b"extra notes\n")
    removed = api.delete_file("notes/extra.md", repo_id="alice/tiny")
    state = hub_state(hf_env, "alice/tiny")
    assert "notes/extra.md" not in state["files"] and state["sha"] == removed.oid != added.oid
    assert state["revisions"] == 4


def test_the_same_commit_twice_creates_no_second_revision(hf_env, tokens):
    api = api_for(hf_env, tokens["alice"])
    api.create_repo("alice/twice")
    first = api.upload_file(path_or_fileobj=b"{}", path_in_repo="config.json", repo_id="alice/twice")
    # The client would skip an unchanged file itself (preupload tells it the current oid), so send the
    # same commit by hand: the hub answers the current sha and makes nothing new.
    line = {"key": "file", "value": {"path": "config.json", "content": base64.b64encode(b"{}").decode()}}
    body = json.dumps({"key": "header", "value": {"summary": "again"}}) + "\n" + json.dumps(line) + "\n"
    response = httpx.post(
        f"{hf_env.url}/api/models/alice/twice/commit/main",
        content=body,
        headers={"Authorization": f"Bearer {tokens['alice']}", "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["commitOid"] == first.oid and response.json()["created"] is False
    assert hub_state(hf_env, "alice/twice")["revisions"] == 2  # the initial commit and the first upload


def test_stale_parent_commit_is_refused(hf_env, tokens):
    api = api_for(hf_env, tokens["alice"])
    api.create_repo("alice/stale")
    first = api.upload_file(path_or_fileobj=b"a", path_in_repo="a.txt", repo_id="alice/stale")
    api.upload_file(path_or_fileobj=b"b", path_in_repo="b.txt", repo_id="alice/stale", parent_commit=first.oid)
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.upload_file(path_or_fileobj=b"c", path_in_repo="c.txt", repo_id="alice/stale", parent_commit=first.oid)
    assert excinfo.value.response.status_code == 412 and "not the tip of 'main'" in str(excinfo.value)
    assert "c.txt" not in hub_state(hf_env, "alice/stale")["files"]


def test_read_token_or_no_token_cannot_upload(hf_env, tokens):
    api_for(hf_env, tokens["alice"]).create_repo("alice/guarded")
    with pytest.raises(HfHubHTTPError) as excinfo:
        api_for(hf_env, tokens["alice_read"]).upload_file(
            path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/guarded"
        )
    assert excinfo.value.response.status_code == 403 and "read-only" in str(excinfo.value)
    with pytest.raises(HfHubHTTPError) as excinfo:
        api_for(hf_env, False).upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/guarded")
    assert excinfo.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as excinfo:
        api_for(hf_env, tokens["bob"]).upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/guarded")
    assert excinfo.value.response.status_code == 403 and "only its owner" in str(excinfo.value)
    assert hub_state(hf_env, "alice/guarded")["files"] == INITIAL


def test_create_pr_opens_a_pull_request_and_leaves_main(hf_env, tokens):
    api = api_for(hf_env, tokens["alice"])
    api.create_repo("alice/with-pr")
    before = hub_state(hf_env, "alice/with-pr")
    info = api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/with-pr", create_pr=True)
    assert info.pr_num == 1 and info.pr_revision == "refs/pr/1"
    assert hub_state(hf_env, "alice/with-pr")["files"] == before["files"] == INITIAL
    assert api.list_repo_files("alice/with-pr", revision="refs/pr/1") == [".gitattributes", "x.txt"]


def test_someone_who_cannot_write_opens_a_pull_request_with_lfs_files(hf_env, tokens):
    """As on the HF hub: create_pr needs only to see the repo, large files included (LFS, no Xet here)."""
    api_for(hf_env, tokens["alice"]).create_repo("alice/open-to-prs")
    bob = api_for(hf_env, tokens["bob"])
    weights = os.urandom(300_000)
    info = bob.upload_file(
        path_or_fileobj=weights, path_in_repo="model.safetensors", repo_id="alice/open-to-prs", create_pr=True
    )
    more = os.urandom(200_000)
    # The PR's author commits again to its refs/pr/N, LFS file and all; main stays out of bob's reach.
    bob.upload_file(
        path_or_fileobj=more, path_in_repo="extra.safetensors", repo_id="alice/open-to-prs", revision=info.pr_revision
    )
    files = {f.path: f for f in bob.list_repo_tree("alice/open-to-prs", revision=info.pr_revision)}
    assert files["model.safetensors"].lfs.sha256 == sha256(weights)
    assert files["extra.safetensors"].lfs.sha256 == sha256(more)
    assert hub_state(hf_env, "alice/open-to-prs")["files"] == INITIAL
    with pytest.raises(HfHubHTTPError) as excinfo:
        bob.upload_file(path_or_fileobj=more, path_in_repo="extra.safetensors", repo_id="alice/open-to-prs")
    assert excinfo.value.response.status_code == 403


def _file(hub, data: bytes) -> Path:
    path = Path(hub.data_dir).parent / f"upload-{sha256(data)[:8]}.bin"
    path.write_bytes(data)
    return path


def test_push_to_hub_model_and_tokenizer(hf_env, tokens, monkeypatch, tmp_path):
    transformers = pytest.importorskip("transformers")
    import transformers.utils.hub as transformers_hub

    monkeypatch.setattr(transformers_hub, "_hf_api", None)  # its shared HfApi keeps the endpoint it was built with
    config = transformers.BertConfig(
        vocab_size=32, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
    )
    model = transformers.BertModel(config)
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world"]) + "\n")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(vocab))

    model_commit = model.push_to_hub("alice/pushed-bert", token=tokens["alice"])
    tokenizer_commit = tokenizer.push_to_hub("alice/pushed-bert", token=tokens["alice"])

    state = hub_state(hf_env, "alice/pushed-bert")
    assert state["sha"] == tokenizer_commit.oid != model_commit.oid
    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    local = local_files(tmp_path / "model")
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "README.md"} <= set(
        state["files"]
    )
    for path in ("config.json", "model.safetensors", "tokenizer.json"):
        assert state["files"][path] == local[path], path
        assert sha256(stored_bytes(hf_env, state["files"][path])) == local[path]


def test_upload_twice_and_download_with_the_read_protocol(hf_env, tokens, tmp_path):
    folder = tmp_path / "round-trip"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "model.safetensors").write_bytes(os.urandom(64 * 1024))
    api = api_for(hf_env, tokens["alice"])
    api.create_repo("alice/round-trip")
    first = api.upload_folder(repo_id="alice/round-trip", folder_path=folder)
    # Every file unchanged: the client sends nothing and reports the current revision.
    again = api.upload_folder(repo_id="alice/round-trip", folder_path=folder)
    assert again.oid == first.oid and hub_state(hf_env, "alice/round-trip")["revisions"] == 2
    snapshot = Path(api.snapshot_download("alice/round-trip", cache_dir=tmp_path / "download"))
    assert local_files(snapshot) == local_files(folder) | INITIAL


def test_an_uploaded_revision_is_queued_for_validation(hf_env, tokens):
    api = api_for(hf_env, tokens["alice"])
    api.create_repo("alice/validated")
    info = api.upload_file(
        path_or_fileobj=b'{"model_type": "bert"}', path_in_repo="config.json", repo_id="alice/validated"
    )
    state = hub_state(hf_env, "alice/validated")
    assert state["sha"] == info.oid and state["validation_runs"] == 1


def test_streamed_lfs_put_checks_the_digest_and_leaves_no_temp_file(hf_env, tokens):
    api_for(hf_env, tokens["alice"]).create_repo("alice/streamed")
    data = os.urandom(3 * 1024 * 1024)
    oid = sha256(data)
    answer = httpx.post(
        f"{hf_env.url}/alice/streamed.git/info/lfs/objects/batch",
        json={"operation": "upload", "transfers": ["basic"], "objects": [{"oid": oid, "size": len(data)}]},
        headers={"Authorization": f"Bearer {tokens['alice']}", "Accept": "application/vnd.git-lfs+json"},
    )
    href = answer.json()["objects"][0]["actions"]["upload"]["href"]
    wrong = httpx.put(href, content=bytes(len(data)))
    assert wrong.status_code == 422 and "sha256 mismatch" in wrong.headers["X-Error-Message"]
    stored = httpx.put(href, content=data)
    assert stored.status_code == 200 and stored.json() == {}  # JSON: the streamed route answered, not the Django view
    assert stored_bytes(hf_env, oid) == data
    assert list((Path(hf_env.data_dir) / "tmp").glob("*.part")) == []
