"""The Xet hashes: chunk, xorb (merkle root), file, and term verification hashes.

All are keyed BLAKE3. A hash is kept as its 32 raw bytes; ``hash_hex`` gives the
string form the protocol uses in URLs and in the merkle node text, which reads
each 8-byte group as a little-endian u64 (so it is *not* ``bytes.hex()``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from blake3 import blake3

DATA_KEY = bytes(
    [102, 151, 245, 119, 91, 149, 80, 222, 49, 53, 203, 172, 165, 151, 24, 28]
    + [157, 228, 33, 16, 155, 235, 43, 88, 180, 208, 176, 75, 147, 173, 242, 41]
)
INTERNAL_NODE_KEY = bytes(
    [1, 126, 197, 199, 165, 71, 41, 150, 253, 148, 102, 102, 180, 138, 2, 230]
    + [93, 221, 83, 111, 55, 199, 109, 210, 248, 99, 82, 230, 74, 83, 113, 63]
)
VERIFICATION_KEY = bytes(
    [127, 24, 87, 214, 206, 86, 237, 102, 18, 127, 249, 19, 231, 165, 195, 243]
    + [164, 205, 38, 213, 181, 219, 73, 230, 65, 36, 152, 127, 40, 251, 148, 195]
)
ZERO_HASH = bytes(32)
# Mean branching factor of the aggregated merkle tree; a node closes early when
# a child's hash is divisible by it (content-defined, so trees of shared runs match).
MEAN_BRANCHING = 4
GLOBAL_DEDUP_MODULUS = 1024

Chunk = tuple[bytes, int]  # (raw 32-byte hash, uncompressed length)


def hash_hex(raw: bytes) -> str:
    """The protocol's string form: each 8-byte group as a little-endian u64, in order."""
    if len(raw) != 32:
        raise ValueError("a hash is 32 bytes")
    return "".join(raw[i : i + 8][::-1].hex() for i in range(0, 32, 8))


def hash_from_hex(text: str) -> bytes:
    """Inverse of ``hash_hex``; raises ValueError on anything but 64 hex digits."""
    if len(text) != 64:
        raise ValueError("a hash is 64 hex digits")
    raw = bytes.fromhex(text)
    return b"".join(raw[i : i + 8][::-1] for i in range(0, 32, 8))


def _low_u64(raw: bytes) -> int:
    # The reference code takes "hash % n" on the last u64 word (little-endian).
    return int.from_bytes(raw[24:32], "little")


def is_global_dedup_eligible(raw: bytes) -> bool:
    return _low_u64(raw) % GLOBAL_DEDUP_MODULUS == 0


def chunk_hash(data: bytes | memoryview) -> bytes:
    return blake3(data, key=DATA_KEY).digest()


def _node(children: Sequence[Chunk]) -> Chunk:
    text = "".join(f"{hash_hex(h)} : {size}\n" for h, size in children)
    return blake3(text.encode(), key=INTERNAL_NODE_KEY).digest(), sum(size for _, size in children)


def _next_cut(level: Sequence[Chunk], start: int) -> int:
    remaining = len(level) - start
    if remaining <= 2:
        return len(level)
    end = start + min(2 * MEAN_BRANCHING + 1, remaining)
    for i in range(start + 2, end):
        if _low_u64(level[i][0]) % MEAN_BRANCHING == 0:
            return i + 1
    return end


def merkle_root(chunks: Iterable[Chunk]) -> bytes:
    """The aggregated merkle root over (hash, size) leaves: a xorb's hash."""
    level = list(chunks)
    if not level:
        return ZERO_HASH
    while len(level) > 1:
        parents = []
        start = 0
        while start < len(level):
            cut = _next_cut(level, start)
            parents.append(_node(level[start:cut]))
            start = cut
        level = parents
    return level[0][0]


def xorb_hash(chunks: Iterable[Chunk]) -> bytes:
    return merkle_root(chunks)


def file_hash(chunks: Iterable[Chunk]) -> bytes:
    """A file's Xet hash: the merkle root keyed once more with a zero key (the empty file hashes to zero)."""
    chunks = list(chunks)
    if not chunks:
        return ZERO_HASH
    return blake3(merkle_root(chunks), key=ZERO_HASH).digest()


def verification_hash(chunk_hashes: Iterable[bytes]) -> bytes:
    """The range hash a shard carries for each file term: proof the uploader knew those chunks."""
    return blake3(b"".join(chunk_hashes), key=VERIFICATION_KEY).digest()
