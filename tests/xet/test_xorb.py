"""Xorb parsing: the real client's xorb verifies and decodes; any altered byte is refused."""

from __future__ import annotations

import hashlib

import pytest

from models_app.xet import hashing, shard, xorb
from tests.xet.vectors import FILE_HASHES, XORB_HEX, vector_files

XORB_HASH = hashing.hash_from_hex(XORB_HEX)


def test_real_xorb_verifies_with_all_three_schemes(xorb_bytes):
    refs = xorb.verify_xorb(xorb_bytes, XORB_HASH)
    schemes = {xorb.read_header(xorb_bytes, r.offset)[1] for r in refs}
    assert schemes == {xorb.SCHEME_NONE, xorb.SCHEME_LZ4, xorb.SCHEME_BG4_LZ4}
    assert sum(r.size for r in refs) == sum(len(v) for v in vector_files().values())


def test_files_rebuild_byte_identical_from_the_xorb(xorb_bytes, shard_bytes):
    refs = xorb.verify_xorb(xorb_bytes, XORB_HASH)
    files = vector_files()
    by_hash = {xet: name for name, (xet, _) in FILE_HASHES.items()}
    for entry in shard.parse_shard(shard_bytes).files:
        data = b"".join(b"".join(xorb.decode_range(xorb_bytes, refs, t.start, t.end)) for t in entry.terms)
        name = by_hash[hashing.hash_hex(entry.file_hash)]
        assert data == files[name]
        assert hashlib.sha256(data).hexdigest() == hashing.hash_hex(entry.sha256)


@pytest.mark.parametrize("position", [0, 3, 9, 5000, 100_000, -1])
def test_a_flipped_byte_is_refused(xorb_bytes, position):
    tampered = bytearray(xorb_bytes)
    tampered[position] ^= 0x01
    with pytest.raises(xorb.XorbError):
        xorb.verify_xorb(bytes(tampered), XORB_HASH)


def test_a_wrong_hash_is_refused(xorb_bytes):
    with pytest.raises(xorb.XorbError, match="hashes to"):
        xorb.verify_xorb(xorb_bytes, bytes(32))


def test_truncated_and_empty_xorbs_are_refused(xorb_bytes):
    with pytest.raises(xorb.XorbError):
        xorb.verify_xorb(xorb_bytes[:-10], XORB_HASH)
    with pytest.raises(xorb.XorbError):
        xorb.verify_xorb(b"", XORB_HASH)


def test_byte_grouping_round_trip_for_every_remainder():
    for n in range(0, 13):
        data = bytes(range(n))
        groups = [data[i::4] for i in range(4)]
        assert xorb.ungroup_bg4(b"".join(groups)) == data


def test_index_round_trip(xorb_bytes):
    refs = xorb.verify_xorb(xorb_bytes, XORB_HASH)
    assert xorb.unpack_index(xorb.pack_index(refs)) == refs


@pytest.mark.parametrize("slice_size", [1, 7, 4096, 65_536 + 3])
def test_parser_gives_the_same_index_whatever_the_slices(xorb_bytes, slice_size):
    whole = xorb.verify_xorb(xorb_bytes, XORB_HASH)
    parser = xorb.XorbParser()
    view = memoryview(xorb_bytes)
    step = slice_size if slice_size > 1 else 997  # byte-by-byte over the first chunk header only
    if slice_size == 1:
        for i in range(20):
            parser.feed(view[i : i + 1])
        start = 20
    else:
        start = 0
    for offset in range(start, len(view), step):
        parser.feed(view[offset : offset + step])
    assert parser.finish(XORB_HASH) == whole


def _footer(claimed: bytes) -> bytes:
    body = b"XETBLOB" + bytes([1]) + claimed + b"\x00" * 40
    return body + len(body).to_bytes(4, "little")


def test_a_footer_naming_the_same_hash_is_accepted_another_is_refused(xorb_bytes):
    assert len(xorb.verify_xorb(xorb_bytes + _footer(XORB_HASH), XORB_HASH)) == 9
    with pytest.raises(xorb.XorbError, match="footer"):
        xorb.verify_xorb(xorb_bytes + _footer(bytes(32)), XORB_HASH)
    with pytest.raises(xorb.XorbError, match="footer"):
        xorb.verify_xorb(xorb_bytes + _footer(XORB_HASH)[:-1], XORB_HASH)
