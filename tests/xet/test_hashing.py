"""Xet hashes against the reference implementation's published vectors and the real client's output."""

from __future__ import annotations

import pytest

from models_app.xet import hashing
from tests.xet.vectors import FILE_HASHES

A = "cfc5d07f6f03c29bbf424132963fe08d19a37d5757aaf520bf08119f05cd56d6"
B = "c3e67584b5c4fc2a89837ec39e40f2c8a6bb0b2987ac94cd4b31e5fbdd210a72"
C = "0d2beb91b9196929a5ddec9f6e306924ddf4a24268e3e59fd8464738d525af37"
D = "adf8773496a9b7319b2e50dc98093f344053b17d8ad37100b9c07d9805988784"


def leaves(*pairs):
    return [(hashing.hash_from_hex(h), n) for h, n in pairs]


def test_hash_string_form_reverses_each_8_byte_group():
    raw = bytes(range(32))
    assert hashing.hash_hex(raw) == "07060504030201000f0e0d0c0b0a090817161514131211101f1e1d1c1b1a1918"
    assert hashing.hash_from_hex(hashing.hash_hex(raw)) == raw


@pytest.mark.parametrize(
    ("chunks", "root", "file"),
    [
        ([(A, 100)], A, "8e16257caa3fe079d484d872a8975264b2ff683b0d6db9028cc7c0f968a45661"),
        (
            [(A, 100), (B, 200), (C, 300)],
            "71ec1275fca074724e2dd666921b3277c7cee603e4d025bcab2d4050015be2bc",
            "54e55dccc6653c612bdb5576c5d3cb34bb31bc4e100248abccf4c908b3ef7715",
        ),
        (
            [(A, 100)] * 4,
            "89f2ada89ff8c96763c6b25010e6dd76a4c05b1466207633ea559acf2093211b",
            "2cdba690d0e09563596e0cda626d43eb4c96ef1e994fe72d9b2f5a83cfcd36dd",
        ),
        (
            [(A, 100), (B, 200), (A, 100), (B, 200), (C, 300), (D, 400)],
            "52c826f99507aa05d0b45e9837fa1709e0485425cfbcb1e80db3905cf98b3ee9",
            "91d21684db364c8883ab8209fa5eb2e781cf07f37e1fa43e731c30839afe422f",
        ),
    ],
)
def test_merkle_and_file_hash_match_reference_vectors(chunks, root, file):
    assert hashing.hash_hex(hashing.merkle_root(leaves(*chunks))) == root
    assert hashing.hash_hex(hashing.file_hash(leaves(*chunks))) == file


def test_empty_file_hashes_to_zero():
    assert hashing.file_hash([]) == hashing.ZERO_HASH


def test_chunk_hash_matches_the_real_client():
    # hf_xet 1.8.0 reported this file hash for a 3-byte file "hi\n" (one chunk).
    chunks = [(hashing.chunk_hash(b"hi\n"), 3)]
    assert hashing.hash_hex(hashing.file_hash(chunks)) == (
        "a961cc336abf956bb689f545ea7d691ec2f156b97c4d103229835856e093916d"
    )


def test_file_hashes_match_the_real_client(real_chunks):
    for name, (xet_hash, _sha) in FILE_HASHES.items():
        assert hashing.hash_hex(hashing.file_hash(real_chunks[name])) == xet_hash


def test_many_leaves_build_a_deep_tree_deterministically():
    many = [(hashing.chunk_hash(bytes([i])), 1000 + i) for i in range(200)]
    assert hashing.merkle_root(many) == hashing.merkle_root(list(many))
    assert hashing.merkle_root(many) != hashing.merkle_root(many[:-1])
