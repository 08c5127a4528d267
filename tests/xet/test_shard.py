"""Shard parsing against the real client's upload, and the dedup answer it can read back."""

from __future__ import annotations

import struct

import pytest

from models_app.xet import hashing, shard
from tests.xet.vectors import FILE_HASHES, XORB_HEX


def test_real_shard_lists_three_files_and_one_xorb(shard_bytes):
    parsed = shard.parse_shard(shard_bytes)
    assert {hashing.hash_hex(f.file_hash) for f in parsed.files} == {x for x, _ in FILE_HASHES.values()}
    assert {hashing.hash_hex(f.sha256) for f in parsed.files} == {s for _, s in FILE_HASHES.values()}
    assert all(len(f.verification) == len(f.terms) for f in parsed.files)
    assert [hashing.hash_hex(x.xorb) for x in parsed.xorbs] == [XORB_HEX]


def test_verification_hashes_match_ours(shard_bytes, xorb_bytes):
    from models_app.xet import xorb

    refs = xorb.verify_xorb(xorb_bytes, hashing.hash_from_hex(XORB_HEX))
    for entry in shard.parse_shard(shard_bytes).files:
        for term, expected in zip(entry.terms, entry.verification, strict=True):
            assert hashing.verification_hash(r.hash for r in refs[term.start : term.end]) == expected


@pytest.mark.parametrize("cut", [10, 48, 100, -1])
def test_truncated_shard_is_refused(shard_bytes, cut):
    with pytest.raises(shard.ShardError):
        shard.parse_shard(shard_bytes[:cut])


def test_bad_tag_and_version_are_refused(shard_bytes):
    with pytest.raises(shard.ShardError, match="tag"):
        shard.parse_shard(b"X" + shard_bytes[1:])
    bad_version = shard_bytes[:32] + struct.pack("<Q", 3) + shard_bytes[40:]
    with pytest.raises(shard.ShardError, match="version"):
        shard.parse_shard(bad_version)


def test_dedup_answer_parses_and_hides_chunk_hashes(shard_bytes):
    listing = shard.parse_shard(shard_bytes).xorbs
    answer = shard.dedup_shard(listing)
    parsed = shard.parse_shard(answer)
    assert parsed.files == []
    assert [x.xorb for x in parsed.xorbs] == [x.xorb for x in listing]
    # The chunk hashes are keyed with a random key carried in the footer.
    key = answer[-200 + 72 : -200 + 104]
    original = listing[0].chunks[0][0]
    assert parsed.xorbs[0].chunks[0][0] == hashing.blake3(original, key=key).digest()
    assert parsed.xorbs[0].chunks[0][0] != original
