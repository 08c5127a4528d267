from __future__ import annotations

import pytest
from django.test import Client

from models_app.repos.rules import repo_create
from models_app.xet import hashing, shard, xorb
from tests.xet.vectors import FILE_HASHES, SHARD_PATH, XORB_HEX, XORB_PATH

XORB_URL = f"/xet/v1/xorbs/default/{XORB_HEX}"


@pytest.fixture(scope="session")
def xorb_bytes() -> bytes:
    return XORB_PATH.read_bytes()


@pytest.fixture(scope="session")
def shard_bytes() -> bytes:
    return SHARD_PATH.read_bytes()


@pytest.fixture(scope="session")
def real_chunks(xorb_bytes, shard_bytes) -> dict[str, list[tuple[bytes, int]]]:
    """name -> the (chunk hash, size) list of that vector file, from the client's xorb and shard."""
    refs = xorb.verify_xorb(xorb_bytes, hashing.hash_from_hex(XORB_HEX))
    by_hash = {xet: name for name, (xet, _) in FILE_HASHES.items()}
    out = {}
    for entry in shard.parse_shard(shard_bytes).files:
        chunks = [(refs[i].hash, refs[i].size) for t in entry.terms for i in range(t.start, t.end)]
        out[by_hash[hashing.hash_hex(entry.file_hash)]] = chunks
    return out


@pytest.fixture
def isolated_xet(settings, tmp_path):
    """Every test gets its own blob store, temp folder and xorb store."""
    settings.BLOB_DIR = tmp_path / "blobs"
    settings.UPLOAD_TMP_DIR = tmp_path / "tmp"
    settings.UPLOAD_TMP_DIR.mkdir()
    settings.XET_DIR = tmp_path / "xet"
    return tmp_path


@pytest.fixture
def repo(owner, isolated_xet):
    return repo_create(owner, "tiny-bert")


def token_for(client, repo, rev="main") -> dict:
    response = client.get(f"/api/models/{repo.repo_id}/xet-write-token/{rev}")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def cas(write_client, repo) -> Client:
    """A plain HTTP client carrying the CAS token the hub handed out."""
    answer = token_for(write_client, repo)
    return Client(HTTP_AUTHORIZATION=f"Bearer {answer['accessToken']}")


def post_bytes(client: Client, url: str, data: bytes):
    return client.post(url, data=data, content_type="application/octet-stream")
