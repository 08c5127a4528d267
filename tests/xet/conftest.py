from __future__ import annotations

import pytest

from models_app.xet import hashing, shard, xorb
from tests.xet.vectors import FILE_HASHES, SHARD_PATH, XORB_HEX, XORB_PATH


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
