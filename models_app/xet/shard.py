"""Parse an uploaded shard (file reconstructions + new xorb listings) and write dedup answers.

Layout (all little-endian, every record 48 bytes): a header (32-byte tag,
version 2, footer size), the file info section (per file a header, its terms,
then one verification entry per term and an optional sha256 record, closed by
a bookend of 32 x 0xFF), the CAS info section (per xorb a header and one entry
per chunk, closed by a bookend), and a 200-byte footer that uploads omit.
"""

from __future__ import annotations

import os
import struct
import time
from dataclasses import dataclass, field

from models_app.xet import hashing

HEADER_TAG = b"HFRepoMetaData\x00" + bytes(
    [85, 105, 103, 69, 106, 123, 129, 87, 131, 165, 189, 217, 92, 205, 209, 74, 169]
)
HEADER_VERSION = 2
FOOTER_VERSION = 1
FOOTER_SIZE = 200
ENTRY = 48
BOOKEND = b"\xff" * 32 + b"\x00" * 16
FLAG_VERIFICATION = 1 << 31
FLAG_METADATA_EXT = 1 << 30
# A shard names a few thousand files at most in practice; this bounds the work one request can ask.
MAX_SHARD_SIZE = 64 * 1024 * 1024


class ShardError(ValueError):
    """The bytes are not a valid shard (the message says why)."""


@dataclass(frozen=True)
class Term:
    xorb: bytes  # raw hash
    size: int  # unpacked bytes of the term
    start: int  # first chunk index
    end: int  # end chunk index (exclusive)


@dataclass
class FileEntry:
    file_hash: bytes
    terms: list[Term]
    verification: list[bytes] = field(default_factory=list)
    sha256: bytes | None = None

    @property
    def size(self) -> int:
        return sum(t.size for t in self.terms)


@dataclass(frozen=True)
class XorbListing:
    xorb: bytes
    chunks: list[tuple[bytes, int, int]]  # (chunk hash, unpacked offset, size)
    unpacked_size: int


@dataclass
class Shard:
    files: list[FileEntry]
    xorbs: list[XorbListing]


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ShardError("shard ends in the middle of a record")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


def parse_shard(data: bytes) -> Shard:
    if len(data) > MAX_SHARD_SIZE:
        raise ShardError("shard too large")
    r = _Reader(data)
    tag, version, footer_size = struct.unpack("<32sQQ", r.take(48))
    if tag != HEADER_TAG:
        raise ShardError("not a shard (bad header tag)")
    if version != HEADER_VERSION:
        raise ShardError(f"unsupported shard version {version}")
    files: list[FileEntry] = []
    while True:
        record = r.take(ENTRY)
        if record == BOOKEND:
            break
        file_hash, flags, count, _ = struct.unpack("<32sII8s", record)
        if flags & ~(FLAG_VERIFICATION | FLAG_METADATA_EXT):
            raise ShardError("unknown file flags")
        if count == 0 and file_hash != hashing.ZERO_HASH:
            raise ShardError("a non-empty file needs at least one term")
        terms = []
        for _ in range(count):
            xorb, _cas_flags, size, start, end = struct.unpack("<32sIIII", r.take(ENTRY))
            if end <= start:
                raise ShardError("a term's chunk range is empty")
            terms.append(Term(xorb, size, start, end))
        entry = FileEntry(file_hash, terms)
        if flags & FLAG_VERIFICATION:
            entry.verification = [r.take(ENTRY)[:32] for _ in range(count)]
        if flags & FLAG_METADATA_EXT:
            entry.sha256 = r.take(ENTRY)[:32]
        files.append(entry)
    xorbs: list[XorbListing] = []
    while True:
        record = r.take(ENTRY)
        if record == BOOKEND:
            break
        xorb, _flags, count, in_cas, _on_disk = struct.unpack("<32sIIII", record)
        chunks = []
        for _ in range(count):
            chunk, offset, size, _ = struct.unpack("<32sII8s", r.take(ENTRY))
            chunks.append((chunk, offset, size))
        xorbs.append(XorbListing(xorb, chunks, in_cas))
    if footer_size == 0 and r.pos != len(data):
        # Uploads carry no footer; with one, lookup tables sit between the sections and it.
        raise ShardError("unexpected bytes after the CAS info section")
    return Shard(files, xorbs)


def _truncated(raw: bytes) -> int:
    # Lookup tables key on the first u64 word of a hash.
    return int.from_bytes(raw[:8], "little")


def dedup_shard(listings: list[XorbListing], *, ttl_seconds: int = 7 * 24 * 3600) -> bytes:
    """A global-dedup answer: no files, the given xorbs with HMAC-keyed chunk hashes, lookup tables, a footer.

    The random key means a client only recognises chunks it already holds, so the
    answer never hands out the chunk hashes of someone else's data. The client
    reads the xorb and chunk lookup tables (sorted truncated hashes -> record
    index), so they must be present and consistent.
    """
    key = os.urandom(32)
    out = bytearray(struct.pack("<32sQQ", HEADER_TAG, HEADER_VERSION, FOOTER_SIZE))
    file_info_offset = len(out)
    out += BOOKEND
    cas_info_offset = len(out)
    xorb_lookup: list[tuple[int, int]] = []
    chunk_lookup: list[tuple[int, int, int]] = []
    record = 0
    stored = 0
    for listing in listings:
        xorb_lookup.append((_truncated(listing.xorb), record))
        out += struct.pack("<32sIIII", listing.xorb, 0, len(listing.chunks), listing.unpacked_size, 0)
        for i, (chunk, offset, size) in enumerate(listing.chunks):
            keyed = hashing.blake3(chunk, key=key).digest()
            out += struct.pack("<32sII8s", keyed, offset, size, b"")
            chunk_lookup.append((_truncated(keyed), record, i))
        record += 1 + len(listing.chunks)
        stored += listing.unpacked_size
    out += BOOKEND
    file_lookup_offset = len(out)
    xorb_lookup_offset = len(out)
    for truncated, index in sorted(xorb_lookup):
        out += struct.pack("<QI", truncated, index)
    chunk_lookup_offset = len(out)
    for truncated, index, position in sorted(chunk_lookup):
        out += struct.pack("<QII", truncated, index, position)
    footer_offset = len(out)
    now = int(time.time())
    out += struct.pack(
        "<9Q",
        FOOTER_VERSION,
        file_info_offset,
        cas_info_offset,
        file_lookup_offset,
        0,
        xorb_lookup_offset,
        len(xorb_lookup),
        chunk_lookup_offset,
        len(chunk_lookup),
    )
    out += key
    out += struct.pack("<2Q48s4Q", now, now + ttl_seconds, b"", 0, stored, stored, footer_offset)
    assert len(out) - footer_offset == FOOTER_SIZE
    return bytes(out)
