"""The CAS store: verified xorbs on disk, shards turned into blobs, and the dedup index.

Xorbs live under ``XET_DIR/xorbs/ab/<hash>.xorb`` with a ``.idx`` beside each
(chunk hashes and offsets, so a shard can be checked without decompressing
anything). A shard is checked in full before anything is written; then each
file it names is rebuilt from its xorb ranges and streamed through the common
``Ingest`` (sha256, size limits, quotas), so a Xet upload ends as the same
content-addressed blob an LFS upload would, and the commit's ``lfsFile``
(sha256) resolves.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from hub.api import ApiError
from models_app.models import Blob, ModelRepo, RepoFile
from models_app.publish import diskwrite
from models_app.publish.uploads import Ingest, StagedFile
from models_app.repos.quota import owner_remaining
from models_app.storage import get_store
from models_app.storage.retention import keep_alive
from models_app.xet import assembly, hashing, shard, xorb, xorb_store
from models_app.xet.models import XetChunk, XetFile, Xorb

try:  # the LFS write path (issue 5): lets the uploader commit what they sent, as after an LFS PUT
    from models_app.hf.lfs_objects import remember_upload
except ImportError:  # pragma: no cover - before that path is merged
    remember_upload = None

log = logging.getLogger(__name__)
_HEX = re.compile(r"^[0-9a-f]{64}$")


class CasError(ApiError):
    """A CAS request refused; nothing of it is kept."""


def parse_hash(text: str) -> bytes:
    if not _HEX.match(text):
        raise CasError("A hash is 64 lowercase hex digits.", status_code=400)
    return hashing.hash_from_hex(text)


def _xorb_dir() -> Path:
    return Path(settings.XET_DIR) / "xorbs"


def xorb_path(hex_hash: str) -> Path:
    return _xorb_dir() / hex_hash[:2] / f"{hex_hash}.xorb"


def index_path(hex_hash: str) -> Path:
    return _xorb_dir() / hex_hash[:2] / f"{hex_hash}.idx"


def _temp_file(prefix: str):
    tmp = Path(settings.XET_DIR) / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    return tempfile.NamedTemporaryFile(dir=tmp, prefix=prefix, suffix=".part", delete=False)


def xorb_held(hex_hash: str) -> bool:
    return Xorb.objects.filter(hash=hex_hash).exists() and xorb_store.held(xorb_path(hex_hash))


def xorb_local(hex_hash: str) -> bool:
    """The xorb and its index readable on this process's disk (fetched from the bucket in S3 mode)."""
    return xorb_store.ensure_local(index_path(hex_hash)) and xorb_store.ensure_local(xorb_path(hex_hash))


def load_index(hex_hash: str) -> list[xorb.ChunkRef]:
    xorb_local(hex_hash)
    return xorb.unpack_index(index_path(hex_hash).read_bytes())


def too_big(limit: int) -> str:
    if limit < xorb.MAX_XORB_BODY:
        return "This upload would exceed your storage quota."
    return "A xorb is at most 64 MiB."


def upload_allowance(uploader) -> int:
    """Bytes of xorbs ``uploader`` may still send: their quota less what they hold, committed or pending."""
    pending = Xorb.objects.filter(uploader=uploader, referenced__isnull=True).aggregate(total=Sum("size"))["total"]
    return owner_remaining(uploader) - (pending or 0)


def xorb_limit(hex_hash: str, uploader) -> int | None:
    """Bytes the next xorb may have, or None when the hub already holds it (nothing to receive)."""
    parse_hash(hex_hash)
    if xorb_held(hex_hash):
        return None
    return min(xorb.MAX_XORB_BODY, upload_allowance(uploader))


class XorbUpload:
    """One xorb being received: each slice is counted, written to a temp file and parsed as it arrives.

    ``write`` slices in order, then ``finish`` (verify, move into place) or
    ``abort``. No database work, so it may run off the request thread.
    """

    def __init__(self, hex_hash: str, limit: int, feed: assembly.XorbFeed | None = None):
        """``feed``: the upload session's speculative assembly (assembly.py), told each plain chunk."""
        self.hex_hash = hex_hash
        self.expected = parse_hash(hex_hash)
        self.limit = limit
        self.size = 0
        self._feed, self._finished = feed, False
        self.parser = xorb.XorbParser(on_chunk=feed.chunk if feed is not None and feed.live else None)
        self._temp = _temp_file("xorb-")
        # Written on a lane of its own while this thread decompresses and hashes the same bytes.
        self._lane = diskwrite.Fanout((diskwrite.Lane(diskwrite.each(self._temp.write), "xorb-write"),))

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:  # counted as it arrives, whatever Content-Length said
            raise CasError(too_big(self.limit), status_code=413)
        data = diskwrite.immutable(data)  # the parser and the lane keep views of it
        self._lane.add(data)
        try:
            self.parser.feed(data)
        except xorb.XorbError as exc:
            raise CasError(f"Xorb refused: {exc}.", status_code=400) from None

    def _close(self, *, keep: bool) -> None:
        diskwrite.close_file(self._temp, self._lane, keep=keep)

    def finish(self) -> tuple[int, list[xorb.ChunkRef]]:
        self._close(keep=True)
        if self.size == 0:
            raise CasError("The xorb is empty.", status_code=400)
        try:
            refs = self.parser.finish(self.expected)
        except xorb.XorbError as exc:
            raise CasError(f"Xorb refused: {exc}.", status_code=400) from None
        dest = xorb_path(self.hex_hash)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with _temp_file("xorb-idx-") as index:
            index.write(xorb.pack_index(refs))
        # The index goes first; the row (xorb_record) comes last, once both files are in place.
        # Two uploads of the same xorb write identical, verified bytes, so either rename may win.
        os.replace(index.name, index_path(self.hex_hash))
        os.replace(self._temp.name, dest)
        xorb_store.publish(index_path(self.hex_hash), dest)  # S3 mode: in the bucket before the row names it
        self._finished = True
        if self._feed is not None:
            self._feed.done(refs, dest.read_bytes)
        return self.size, refs

    def abort(self) -> None:
        if self._feed is not None and not self._finished:
            self._feed.failed()
        with contextlib.suppress(Exception):
            self._close(keep=False)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._temp.name)


def xorb_write(hex_hash: str, read, content_length: int | None, limit: int) -> tuple[int, list[xorb.ChunkRef]]:
    """Receive a xorb from ``read(n)`` (a request body), verify it and move it into place."""
    if content_length is not None and content_length > limit:
        raise CasError(too_big(limit), status_code=413)
    upload = XorbUpload(hex_hash, limit)
    try:
        while block := read(1024 * 1024):
            upload.write(block)
        return upload.finish()
    finally:
        upload.abort()


def xorb_record(hex_hash: str, size: int, refs: list[xorb.ChunkRef], uploader) -> bool:
    _, created = Xorb.objects.get_or_create(
        hash=hex_hash,
        defaults={
            "size": size,
            "unpacked_size": sum(r.size for r in refs),
            "num_chunks": len(refs),
            "uploader": uploader,
        },
    )
    return created


def xorb_receive(hex_hash: str, read, content_length: int | None, uploader) -> bool:
    """Store the xorb read from ``read(n)`` if it verifies; False when the hub already holds it."""
    limit = xorb_limit(hex_hash, uploader)
    if limit is None:
        return False
    size, refs = xorb_write(hex_hash, read, content_length, limit)
    return xorb_record(hex_hash, size, refs, uploader)


def _check_file(entry: shard.FileEntry, indexes: dict[str, list[xorb.ChunkRef]]) -> None:
    """Every term names a held xorb range of the stated size and proves its chunks; the file hash agrees."""
    name = hashing.hash_hex(entry.file_hash)
    if len(entry.verification) != len(entry.terms):
        raise CasError(f"File {name}: the shard carries no verification entries.", status_code=400)
    if entry.sha256 is None:
        raise CasError(f"File {name}: the shard carries no sha256 record.", status_code=400)
    chunks: list[hashing.Chunk] = []
    for term, proof in zip(entry.terms, entry.verification, strict=True):
        xorb_hex = hashing.hash_hex(term.xorb)
        if xorb_hex not in indexes:
            if not xorb_held(xorb_hex):
                raise CasError(f"File {name} uses xorb {xorb_hex}, which the hub does not hold.", status_code=400)
            indexes[xorb_hex] = load_index(xorb_hex)
        refs = indexes[xorb_hex][term.start : term.end]
        if term.end > len(indexes[xorb_hex]):
            raise CasError(f"File {name}: chunk range past the end of xorb {xorb_hex}.", status_code=400)
        if sum(r.size for r in refs) != term.size:
            raise CasError(f"File {name}: a term's size does not match its chunks.", status_code=400)
        if hashing.verification_hash(r.hash for r in refs) != proof:
            raise CasError(f"File {name}: a term's verification hash does not match.", status_code=400)
        chunks.extend((r.hash, r.size) for r in refs)
    if hashing.file_hash(chunks) != entry.file_hash:
        raise CasError(f"File {name}: the file hash does not match its chunks.", status_code=400)


def _check_listing(listing: shard.XorbListing, indexes: dict[str, list[xorb.ChunkRef]]) -> None:
    xorb_hex = hashing.hash_hex(listing.xorb)
    if xorb_hex not in indexes:
        if not xorb_held(xorb_hex):
            raise CasError(f"The shard lists xorb {xorb_hex}, which was never uploaded.", status_code=400)
        indexes[xorb_hex] = load_index(xorb_hex)
    if [c[0] for c in listing.chunks] != [r.hash for r in indexes[xorb_hex]]:
        raise CasError(f"The shard's chunk list for xorb {xorb_hex} does not match the xorb.", status_code=400)


def _read_packed(entry_term: shard.Term, refs: list[xorb.ChunkRef]) -> tuple[bytes, int]:
    first, last = refs[entry_term.start], refs[entry_term.end - 1]
    hex_hash = hashing.hash_hex(entry_term.xorb)
    xorb_local(hex_hash)  # another CAS process may have received it (S3 mode)
    with open(xorb_path(hex_hash), "rb") as handle:
        handle.seek(first.offset)
        return handle.read(last.offset + last.packed_size - first.offset), first.offset


def file_bytes(entry: shard.FileEntry, indexes: dict[str, list[xorb.ChunkRef]]) -> Iterator[bytes | memoryview]:
    """Rebuild a checked file from its xorb ranges, chunk by chunk.

    Each term's packed bytes are read in one call (at most one xorb, 64 MiB),
    the next term's while this one is hashed and written (a read releases the
    GIL, so the two overlap); uncompressed chunks are handed on as views into
    that buffer, so the bytes are copied once on their way to the blob.
    """
    terms = entry.terms
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="xet-read") as pool:
        pending = pool.submit(_read_packed, terms[0], indexes[hashing.hash_hex(terms[0].xorb)]) if terms else None
        for i, term in enumerate(terms):
            packed, base = pending.result()
            if i + 1 < len(terms):
                following = terms[i + 1]
                pending = pool.submit(_read_packed, following, indexes[hashing.hash_hex(following.xorb)])
            refs = indexes[hashing.hash_hex(term.xorb)]
            yield from xorb.decode_range(packed, refs, term.start, term.end, base=base)


def _blob_for(sha256: str) -> Blob | None:
    blob = Blob.objects.filter(sha256=sha256).first()
    # Reused for this upload: spared from the storage sweep until the commit that follows.
    return blob if blob is not None and get_store().exists(blob.storage_key) and keep_alive(blob) else None


def shard_register(data: bytes, repo: ModelRepo, uploader=None) -> int:
    """Check a shard, rebuild its files into blobs; 1 when something new was registered, else 0."""
    try:
        parsed = shard.parse_shard(data)
    except shard.ShardError as exc:
        raise CasError(f"Shard refused: {exc}.", status_code=400) from None
    indexes: dict[str, list[xorb.ChunkRef]] = {}
    for listing in parsed.xorbs:
        _check_listing(listing, indexes)
    for entry in parsed.files:
        _check_file(entry, indexes)

    started = time.perf_counter()
    assembled = None
    if uploader is not None:
        if len(parsed.files) == 1:
            assembled = assembly.take(uploader.pk, repo.pk, parsed.files[0])
        else:
            assembly.forget(uploader.pk, repo.pk)
    rebuilt = _rebuild_files(parsed.files, indexes, repo, assembled)
    log.info(
        "xet shard: %d file(s), %d bytes checked and %s in %.2f s",
        len(parsed.files),
        sum(entry.size for entry in parsed.files),
        "assembled while the xorbs arrived" if assembled is not None else "rebuilt",
        time.perf_counter() - started,
    )
    new = 0
    with transaction.atomic():
        for file_hex, blob in rebuilt:
            xet_file, created = XetFile.objects.get_or_create(hash=file_hex, defaults={"blob": blob})
            new += created
            if not created:
                keep_alive(xet_file)  # registered again: the cleanup's grace starts over, as for a new upload
    if uploader is not None and remember_upload is not None:
        for _, blob in rebuilt:
            remember_upload(uploader, repo, blob.sha256)
    _index_for_dedup(parsed, indexes)
    return 1 if new or parsed.xorbs else 0


def _rebuild_files(
    files: list[shard.FileEntry],
    indexes: dict[str, list[xorb.ChunkRef]],
    repo: ModelRepo,
    assembled: StagedFile | None = None,
) -> list[tuple[str, Blob]]:
    """Each file's blob, rebuilt through Ingest unless this file hash was rebuilt into it before.

    ``assembled`` (one file only): the file already received while its xorbs
    arrived (assembly.py); its size and sha256 are checked like any upload's.
    All or nothing: when one file fails (a limit, a sha256 that does not match),
    the blobs this call created for the others are removed again.
    """
    ingest = Ingest(repo)
    created: list[Blob] = []
    out: list[tuple[str, Blob]] = []
    try:
        for entry in files:
            file_hex = hashing.hash_hex(entry.file_hash)
            sha256 = hashing.hash_hex(entry.sha256)
            # Trusting the sha256 record alone would let a shard of one's own chunks claim
            # someone else's blob (and then commit it): only a known file hash skips the rebuild.
            blob = _blob_for(sha256) if XetFile.objects.filter(hash=file_hex, blob_id=sha256).exists() else None
            if blob is None:
                existed = _blob_for(sha256) is not None
                if assembled is not None:
                    staged, assembled = assembled, None
                    staged.path, staged.expected_sha256, staged.expected_size = f"xet/{file_hex}", sha256, entry.size
                    blob = staged.finish()
                else:
                    blob = ingest.add(f"xet/{file_hex}", file_bytes(entry, indexes), sha256=sha256, size=entry.size)
                if not existed:
                    created.append(blob)
            out.append((file_hex, blob))
    except BaseException:
        _drop_unused(created)
        raise
    finally:
        ingest.abort()
        if assembled is not None:
            assembled.abort()
    return out


def _drop_unused(blobs: list[Blob]) -> None:
    for blob in blobs:
        if RepoFile.objects.filter(blob=blob).exists() or XetFile.objects.filter(blob=blob).exists():
            continue
        Blob.objects.filter(pk=blob.pk).delete()
        get_store().delete(blob.storage_key)


def _index_for_dedup(parsed: shard.Shard, indexes: dict[str, list[xorb.ChunkRef]]) -> None:
    """Offer the xorbs a registered file uses to later uploads: eligible chunks and each file's first chunk."""
    rows: dict[str, str] = {}
    for xorb_hex, refs in indexes.items():
        for ref in refs:
            if hashing.is_global_dedup_eligible(ref.hash):
                rows[hashing.hash_hex(ref.hash)] = xorb_hex
    for entry in parsed.files:
        if entry.terms:
            first = entry.terms[0]
            xorb_hex = hashing.hash_hex(first.xorb)
            rows.setdefault(hashing.hash_hex(indexes[xorb_hex][first.start].hash), xorb_hex)
    with transaction.atomic():
        Xorb.objects.filter(hash__in=list(indexes), referenced__isnull=True).update(referenced=timezone.now())
        XetChunk.objects.bulk_create(
            [XetChunk(hash=c, xorb_id=x) for c, x in rows.items()], ignore_conflicts=True, batch_size=500
        )


def dedup_lookup(chunk_hex: str) -> bytes | None:
    """The dedup answer (a shard) for a chunk the hub has seen in a registered file, or None."""
    parse_hash(chunk_hex)
    row = XetChunk.objects.filter(hash=chunk_hex).first()
    if row is None or not xorb_local(row.xorb_id):
        return None
    refs = load_index(row.xorb_id)
    chunks, offset = [], 0
    for ref in refs:
        chunks.append((ref.hash, offset, ref.size))
        offset += ref.size
    return shard.dedup_shard([shard.XorbListing(hashing.hash_from_hex(row.xorb_id), chunks, offset)])
