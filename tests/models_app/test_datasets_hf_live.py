"""Dataset repos (``repo_type="dataset"``) with the unmodified Hugging Face client against a live hub.

Each test has its own users (the live hub is shared by the session).
Like ``test_hf_upload.py``, the client's import-time constants are patched
so that it talks to the hub on loopback over Git LFS.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import httpx
import pytest

huggingface_hub = pytest.importorskip("huggingface_hub")
from huggingface_hub import HfApi, constants, hf_hub_download  # noqa: E402
from huggingface_hub.errors import RepositoryNotFoundError  # noqa: E402

from models_app.repos.blobs import git_blob_sha1  # noqa: E402

pytestmark = [pytest.mark.live]

CSV = b"text,label\ngreat film,pos\ndull plot,neg\n"


def png_1x1() -> bytes:
    """A valid one-pixel PNG: binary, so the client sends it through LFS."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")


@pytest.fixture
def hf_env(live_hub, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setattr(constants, "ENDPOINT", live_hub.url)
    monkeypatch.setattr(
        constants, "HUGGINGFACE_CO_URL_TEMPLATE", live_hub.url + "/{repo_id}/resolve/{revision}/{filename}"
    )
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    return live_hub


def published_dataset(hub, owner: str, tmp_path: Path, *, private: bool = True) -> tuple[HfApi, str, dict]:
    api = HfApi(endpoint=hub.url, token=hub.create_token(owner, "write"))
    repo_id = f"{owner}/reviews"
    url = api.create_repo(repo_id, repo_type="dataset", private=private)
    assert url.repo_type == "dataset" and url.repo_id == repo_id and url == f"{hub.url}/datasets/{repo_id}"
    folder = tmp_path / "data"
    (folder / "train" / "cat").mkdir(parents=True)
    files = {"data.csv": CSV, "train/cat/x.png": png_1x1()}
    for path, data in files.items():
        (folder / path).write_bytes(data)
    api.upload_folder(repo_id=repo_id, folder_path=folder, repo_type="dataset", commit_message="Add data")
    return api, repo_id, files


def runs_of(hub, repo_id: str) -> dict:
    owner, name = repo_id.split("/")
    script = (
        "import json\n"
        "from models_app.validation.models import ValidationRun\n"
        f"qs = ValidationRun.objects.filter(revision__repo__owner__username={owner!r}, revision__repo__name={name!r})\n"
        "print(json.dumps({t: qs.filter(revision__repo__repo_type=t).count() for t in ('model', 'dataset')}))\n"
    )
    return json.loads(hub.manage("shell", "-c", script).strip().splitlines()[-1])


def test_publish_list_download_and_info_of_a_private_dataset(hf_env, tmp_path):
    api, repo_id, files = published_dataset(hf_env, "dataset-dana", tmp_path)
    # every repo starts with .gitattributes (its initial commit), as on the HF hub
    assert sorted(api.list_repo_files(repo_id, repo_type="dataset")) == sorted([*files, ".gitattributes"])
    for path, data in files.items():
        local = hf_hub_download(
            repo_id, path, repo_type="dataset", endpoint=hf_env.url, token=api.token, cache_dir=tmp_path / "c"
        )
        assert Path(local).read_bytes() == data
    info = api.dataset_info(repo_id)
    assert info.id == repo_id and info.private is True and info.author == "dataset-dana"
    assert sorted(s.rfilename for s in info.siblings) == sorted([*files, ".gitattributes"])
    assert info.sha == api.dataset_info(repo_id, revision=info.sha).sha
    assert [d.id for d in api.list_datasets(author="dataset-dana")] == [repo_id]
    assert [d.id for d in api.list_datasets(search="dataset-dana/rev")] == [repo_id]
    assert list(api.list_models(author="dataset-dana")) == []
    # A dataset is data: no validation run is queued for it.
    assert runs_of(hf_env, repo_id) == {"model": 0, "dataset": 0}


def test_a_model_and_a_dataset_share_a_name(hf_env, tmp_path):
    api, repo_id, files = published_dataset(hf_env, "dora", tmp_path, private=False)
    api.create_repo(repo_id)  # the model of the same name
    api.upload_file(path_or_fileobj=b'{"model_type": "bert"}', path_in_repo="config.json", repo_id=repo_id)
    assert api.list_repo_files(repo_id) == [".gitattributes", "config.json"]
    assert sorted(api.list_repo_files(repo_id, repo_type="dataset")) == sorted([*files, ".gitattributes"])
    assert api.model_info(repo_id).sha != api.dataset_info(repo_id).sha
    with httpx.Client(base_url=hf_env.url) as client:
        assert client.get(f"/{repo_id}/resolve/main/config.json").content == b'{"model_type": "bert"}'
        assert client.get(f"/datasets/{repo_id}/resolve/main/data.csv").content == CSV
        assert client.get(f"/datasets/{repo_id}/resolve/main/config.json").status_code == 404
        head = client.head(f"/datasets/{repo_id}/resolve/main/data.csv")
        etag = f'"{git_blob_sha1(CSV)}"'  # a small CSV is a regular git file: its ETag is its git object id
        assert head.headers["etag"] == etag and head.headers["content-length"] == str(len(CSV))
        ranged = client.get(f"/datasets/{repo_id}/resolve/main/data.csv", headers={"Range": "bytes=0-3"})
        assert ranged.status_code == 206 and ranged.content == b"text"
        cached = client.get(f"/datasets/{repo_id}/resolve/main/data.csv", headers={"If-None-Match": etag})
        assert cached.status_code == 304
        assert client.get(f"/datasets/{repo_id}").status_code == 200
    # The model's upload is validated; the dataset's is not.
    assert runs_of(hf_env, repo_id) == {"model": 1, "dataset": 0}
    api.delete_repo(repo_id, repo_type="dataset")
    assert api.list_repo_files(repo_id) == [".gitattributes", "config.json"]
    with pytest.raises(RepositoryNotFoundError):
        api.dataset_info(repo_id)


def test_a_private_dataset_is_not_found_for_others(hf_env, tmp_path):
    api, repo_id, _ = published_dataset(hf_env, "dave", tmp_path)
    other = HfApi(endpoint=hf_env.url, token=hf_env.create_token("dirk", "write"))
    for client_api in (other, HfApi(endpoint=hf_env.url, token=False)):
        with pytest.raises(RepositoryNotFoundError):
            client_api.dataset_info(repo_id)
        with pytest.raises(RepositoryNotFoundError):
            client_api.list_repo_files(repo_id, repo_type="dataset")
        with pytest.raises(RepositoryNotFoundError):
            hf_hub_download(
                repo_id,
                "data.csv",
                repo_type="dataset",
                endpoint=hf_env.url,
                token=client_api.token,
                cache_dir=tmp_path / "other",
            )
        assert list(client_api.list_datasets(author="dave")) == []
    dirk = {"Authorization": f"Bearer {other.token}"}
    with httpx.Client(base_url=hf_env.url) as client:
        for path in (f"/api/datasets/{repo_id}", f"/datasets/{repo_id}/resolve/main/data.csv"):
            assert client.get(path, headers=dirk).status_code == 404
            assert client.get(path).status_code in (401, 404)  # anonymous: 401, as the HF Hub answers
            assert client.get(path).headers["x-error-code"] == "RepoNotFound"
        assert client.get(f"/datasets/{repo_id}").status_code == 404  # the page, anonymous
