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

from models_app.publish.diskwrite import immutable
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


def _check_footer(footer: bytes, expected_hash: bytes) -> None:
    """A footer (``XETBLOB``, version, hash, ..., u32 length) must be whole and name ``expected_hash``."""
    if len(footer) < 8 + 32 + 4:
        raise XorbError("truncated xorb footer")
    (info_length,) = struct.unpack_from("<I", footer, len(footer) - 4)
    if info_length + 4 != len(footer):
        raise XorbError("xorb footer length does not match")
    if footer[7] not in (0, 1):
        raise XorbError(f"unsupported xorb footer version {footer[7]}")
    if bytes(footer[8:40]) != expected_hash:
        raise XorbError("xorb footer names another hash")


class XorbParser:
    """Checks a xorb as its bytes arrive: each complete chunk is decoded and hashed at once.

    ``feed`` any slices in order, then ``finish`` with the expected hash. Memory
    stays at about one chunk plus the last slice, whatever the xorb's size.
    """

    def __init__(self, on_chunk=None) -> None:
        """``on_chunk(plain)`` (optional) gets each chunk's plain bytes, in order, once decoded."""
        self.on_chunk = on_chunk
        self.refs: list[ChunkRef] = []
        self.size = 0
        self._buf = bytearray()
        self._base = 0  # xorb offset of _buf[0]
        self._footer: bytearray | None = None

    def feed(self, data: bytes | memoryview) -> None:
        self.size += len(data)
        if self.size > MAX_XORB_BODY:
            raise XorbError("xorb larger than 64 MiB")
        if self._footer is not None:
            self._footer += data
            return
        view = memoryview(immutable(data)).cast("B")  # chunks handed on are views into it
        # A chunk split across slices is completed in the small buffer; the rest is parsed
        # in place, so the bulk of a slice is never copied before its chunks are hashed.
        while self._buf and view:
            take = self._needed()
            self._buf += view[:take]
            view = view[take:]
            if self._footer is None and len(self._buf) >= CHUNK_HEADER_SIZE and self._needed() == 0:
                held = bytes(self._buf)
                self._buf = bytearray()
                self._parse(memoryview(held))
            if self._footer is not None:
                self._footer += view
                return
        if view:
            used = self._parse(view)
            if self._footer is None:
                self._buf = bytearray(view[used:])

    def _needed(self) -> int:
        """Bytes still missing from the chunk that starts the buffer (its header first)."""
        if len(self._buf) < CHUNK_HEADER_SIZE:
            return CHUNK_HEADER_SIZE - len(self._buf)
        if self._buf[: len(FOOTER_IDENT)] == FOOTER_IDENT:
            return 0
        packed, _, _ = read_header(self._buf, 0)
        return max(CHUNK_HEADER_SIZE + packed - len(self._buf), 0)

    def _parse(self, view: memoryview) -> int:
        """Decode and hash the whole chunks at the start of ``view``; the bytes used. A footer ends parsing."""
        pos = 0
        while len(view) - pos >= CHUNK_HEADER_SIZE:
            if view[pos : pos + len(FOOTER_IDENT)] == FOOTER_IDENT:
                self._footer = bytearray(view[pos:])
                self._base += len(view)
                return len(view)
            packed, scheme, size = read_header(view, pos)
            end = pos + CHUNK_HEADER_SIZE + packed
            if end > len(view):
                break  # the rest of this chunk is still on its way
            plain = decode_chunk(scheme, view[pos + CHUNK_HEADER_SIZE : end], size)
            self.refs.append(ChunkRef(hashing.chunk_hash(plain), self._base + pos, end - pos, size))
            if self.on_chunk is not None:
                self.on_chunk(plain)
            pos = end
        self._base += pos
        return pos

    def finish(self, expected_hash: bytes) -> list[ChunkRef]:
        """The chunk index, once the chunks' merkle root (and any footer) matches ``expected_hash``."""
        if self._buf:
            if bytes(self._buf[: len(FOOTER_IDENT)]) != FOOTER_IDENT:
                raise XorbError("chunk payload runs past the end of the xorb")
            self._footer = self._buf
        if not self.refs:
            raise XorbError("xorb holds no chunks")
        actual = hashing.xorb_hash((r.hash, r.size) for r in self.refs)
        if actual != expected_hash:
            raise XorbError(f"xorb content hashes to {hashing.hash_hex(actual)}, not {hashing.hash_hex(expected_hash)}")
        if self._footer is not None:
            _check_footer(bytes(self._footer), expected_hash)
        return self.refs


def verify_xorb(buf, expected_hash: bytes, slice_size: int = 1024 * 1024) -> list[ChunkRef]:
    """Check every chunk and the merkle root of a whole xorb against ``expected_hash``; return the chunk index."""
    if len(buf) > MAX_XORB_BODY:
        raise XorbError("xorb larger than 64 MiB")
    parser = XorbParser()
    view = memoryview(buf)
    for start in range(0, len(view), slice_size):
        parser.feed(view[start : start + slice_size])
    return parser.finish(expected_hash)


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
