"""Parse and verify a serialized xorb: a run of compressed chunks, optionally followed by a footer.

Each chunk is an 8-byte header (version 0, compressed size u24, scheme u8,
uncompressed size u24, little-endian) and its payload. The client sends xorbs
without the footer; a footer (ident ``XETBLOB``) is accepted when its hash agrees.
Verification decompresses every chunk, hashes it and rebuilds the merkle root,
so a xorb is only ever stored under the hash its content has.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

import lz4.frame
import numpy as np

from models_app.xet import hashing

CHUNK_HEADER_SIZE = 8
MAX_CHUNK_SIZE = 128 * 1024
# The protocol caps a serialized xorb at 64 MiB; the footer may add its own bytes.
MAX_XORB_SIZE = 64 * 1024 * 1024
MAX_XORB_BODY = MAX_XORB_SIZE + 2 * 1024 * 1024
FOOTER_IDENT = b"XETBLOB"

SCHEME_NONE = 0
SCHEME_LZ4 = 1
SCHEME_BG4_LZ4 = 2


class XorbError(ValueError):
    """The bytes are not a valid xorb (the message says why)."""


@dataclass(frozen=True)
class ChunkRef:
    hash: bytes  # raw 32 bytes
    offset: int  # where the chunk's header starts in the xorb
    packed_size: int  # header + payload
    size: int  # uncompressed length


def ungroup_bg4(data: bytes) -> bytes:
    """Undo 4-way byte grouping: group i holds bytes i, i+4, i+8...; the first n % 4 groups are one longer."""
    n = len(data)
    q, r = divmod(n, 4)
    arr = np.frombuffer(data, dtype=np.uint8)
    out = np.empty(n, dtype=np.uint8)
    start = 0
    for i in range(4):
        length = q + (1 if i < r else 0)
        out[i::4] = arr[start : start + length]
        start += length
    return out.tobytes()


def decode_chunk(scheme: int, payload: bytes | memoryview, size: int) -> bytes | memoryview:
    """The plain bytes of one chunk; an uncompressed chunk comes back as the same view, not a copy."""
    try:
        if scheme == SCHEME_NONE:
            data = payload
        elif scheme == SCHEME_LZ4:
            data = lz4.frame.decompress(payload)
        elif scheme == SCHEME_BG4_LZ4:
            data = ungroup_bg4(lz4.frame.decompress(payload))
        else:
            raise XorbError(f"unknown chunk compression scheme {scheme}")
    except RuntimeError as exc:  # lz4 reports corrupt frames as RuntimeError
        raise XorbError(f"chunk does not decompress: {exc}") from None
    if len(data) != size:
        raise XorbError(f"chunk decompresses to {len(data)} bytes, its header says {size}")
    return data


def read_header(buf, offset: int) -> tuple[int, int, int]:
    """(compressed size, scheme, uncompressed size) of the chunk header at ``offset``."""
    header = bytes(buf[offset : offset + CHUNK_HEADER_SIZE])
    if len(header) != CHUNK_HEADER_SIZE:
        raise XorbError("truncated chunk header")
    if header[0] != 0:
        raise XorbError(f"unsupported chunk header version {header[0]}")
    packed = int.from_bytes(header[1:4], "little")
    size = int.from_bytes(header[5:8], "little")
    if size > MAX_CHUNK_SIZE or packed > MAX_CHUNK_SIZE + 1024:
        raise XorbError("chunk larger than the protocol allows")
    return packed, header[4], size


def iter_chunks(buf) -> Iterator[tuple[int, int, int, int, memoryview]]:
    """Yield (offset, packed_size, scheme, size, payload) up to the end or the footer."""
    view = memoryview(buf)
    offset, end = 0, len(view)
    while offset < end:
        if bytes(view[offset : offset + len(FOOTER_IDENT)]) == FOOTER_IDENT:
            return
        packed, scheme, size = read_header(view, offset)
        start = offset + CHUNK_HEADER_SIZE
        if start + packed > end:
            raise XorbError("chunk payload runs past the end of the xorb")
        yield offset, CHUNK_HEADER_SIZE + packed, scheme, size, view[start : start + packed]
        offset = start + packed


def footer_hash(buf, chunks_end: int) -> bytes | None:
    """The xorb hash a footer claims, or None when there is no footer."""
    view = memoryview(buf)
    if chunks_end >= len(view):
        return None
    if len(view) - chunks_end < 8 + 32 + 4:
        raise XorbError("truncated xorb footer")
    (info_length,) = struct.unpack_from("<I", view, len(view) - 4)
    if chunks_end + info_length + 4 != len(view):
        raise XorbError("xorb footer length does not match")
    version = view[chunks_end + 7]
    if version not in (0, 1):
        raise XorbError(f"unsupported xorb footer version {version}")
    return bytes(view[chunks_end + 8 : chunks_end + 40])


def verify_xorb(buf, expected_hash: bytes) -> list[ChunkRef]:
    """Check every chunk and the merkle root against ``expected_hash``; return the chunk index."""
    if len(buf) > MAX_XORB_BODY:
        raise XorbError("xorb larger than 64 MiB")
    refs: list[ChunkRef] = []
    chunks_end = 0
    for offset, packed_size, scheme, size, payload in iter_chunks(buf):
        data = decode_chunk(scheme, payload, size)
        refs.append(ChunkRef(hashing.chunk_hash(data), offset, packed_size, size))
        chunks_end = offset + packed_size
    if not refs:
        raise XorbError("xorb holds no chunks")
    actual = hashing.xorb_hash((r.hash, r.size) for r in refs)
    if actual != expected_hash:
        raise XorbError(f"xorb content hashes to {hashing.hash_hex(actual)}, not {hashing.hash_hex(expected_hash)}")
    claimed = footer_hash(buf, chunks_end)
    if claimed is not None and claimed != expected_hash:
        raise XorbError("xorb footer names another hash")
    return refs


# The index kept beside each stored xorb: per chunk its hash, header offset, packed and plain sizes.
_INDEX_ROW = struct.Struct("<32sIII")


def pack_index(refs: list[ChunkRef]) -> bytes:
    return b"".join(_INDEX_ROW.pack(r.hash, r.offset, r.packed_size, r.size) for r in refs)


def unpack_index(data: bytes) -> list[ChunkRef]:
    return [ChunkRef(*row) for row in _INDEX_ROW.iter_unpack(data)]


def decode_range(buf, refs: list[ChunkRef], start: int, end: int, base: int = 0) -> Iterator[bytes | memoryview]:
    """The plain bytes of chunks [start, end) of a verified xorb, chunk by chunk.

    ``buf`` holds the xorb's bytes from offset ``base`` on (the whole xorb, or just
    the packed range of these chunks).
    """
    view = memoryview(buf)
    for ref in refs[start:end]:
        offset = ref.offset - base
        packed, scheme, size = read_header(view, offset)
        payload = view[offset + CHUNK_HEADER_SIZE : offset + CHUNK_HEADER_SIZE + packed]
        yield decode_chunk(scheme, payload, size)
