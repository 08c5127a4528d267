"""Speculative assembly: a Xet upload's file is hashed and written while its xorbs arrive.

A shard names a file's xorb ranges only at the end of an upload, so the plain
way to make the blob (``cas._rebuild_files``) reads every xorb back, hashes
and writes the file after the last xorb: for 1 GiB, a second or more that the
client waits for. But ``hf_xet`` uploads one large file as a run of whole
xorbs, sent in file order (watched with the real client: 8 xorbs of a 512 MiB
file, each started after the one before, and the shard's terms the same
xorbs, each from chunk 0 to its end). So each upload session (user + repo of
the CAS token) keeps one *stream*: the plain chunks of its xorbs, in the order
the xorb uploads started, hashed (sha256) and written to an ordinary ingest
temp file as each xorb is verified. When the shard names exactly that run of
whole xorbs, the stream *is* the file: ``Ingest`` checks its size and sha256
as for any upload, and the rebuild is skipped.

It is only a guess, never trusted: any other shape (several files, a partial
xorb, a xorb the stream did not see because another process received it, a
refused xorb, two clients on one repo) leaves the stream unused and the file
is rebuilt as before. A xorb whose upload starts while an earlier one is still
arriving is read back from disk and added once its turn comes. A short xorb
(under ``TAIL_BYTES``) is most likely the file's last, and the client may
start it before the full one ahead of it (seen at 1 GiB: the 11-chunk tail
began before the 16th xorb); short xorbs are kept aside and appended at the
shard, in the order its terms give. Streams live in
the web process's memory and are dropped at the shard, on any failure, or
after ``IDLE_SECONDS``; their temp files are ingest ``.part`` files, which the
upload cleanup removes if a process dies.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from models_app.publish.uploads import Ingest, StagedFile
from models_app.xet import hashing, shard, xorb

log = logging.getLogger(__name__)

IDLE_SECONDS = 600
TAIL_BYTES = 8 * 1024 * 1024  # a xorb body shorter than this is taken for a file's tail

_streams: dict[tuple[int, int], _Stream] = {}
_streams_lock = threading.Lock()


@dataclass
class _Xorb:
    hex_hash: str
    done: bool = False  # verified and stored
    chunks: int = 0
    refs: list | None = None  # kept when it finished before its turn, to be read back then
    read_back: object = None


@dataclass
class _Stream:
    key: tuple[int, int]
    staged: StagedFile
    order: list[_Xorb] = field(default_factory=list)
    consumed: int = 0  # xorbs of ``order`` whose chunks are in the file
    live: _Xorb | None = None  # the xorb whose chunks go straight in as it arrives
    tails: list[_Xorb] = field(default_factory=list)  # short xorbs, appended at the shard
    broken: bool = False
    touched: float = field(default_factory=time.monotonic)
    lock: threading.RLock = field(default_factory=threading.RLock)


class XorbFeed:
    """What one xorb upload hands the stream: ``chunk(plain)`` while verifying, then ``done`` or ``failed``."""

    def __init__(self, stream: _Stream, entry: _Xorb, live: bool, tail: bool = False):
        self._stream, self._entry, self.live, self._tail = stream, entry, live, tail

    def chunk(self, plain: bytes) -> None:
        if self.live:
            _add(self._stream, plain)

    def done(self, refs: list[xorb.ChunkRef], read_back) -> None:
        """The xorb verified and stored; ``read_back()`` gives its bytes when it was not live."""
        stream = self._stream
        with stream.lock:
            self._entry.done, self._entry.chunks = True, len(refs)
            if self.live:
                stream.consumed += 1
                stream.live = None
            else:
                self._entry.refs, self._entry.read_back = refs, read_back
            if not self._tail:
                _catch_up(stream)

    def failed(self) -> None:
        _drop(self._stream, "a xorb was refused or abandoned")


def xorb_started(user_id: int, repo, hex_hash: str, size: int | None = None) -> XorbFeed | None:
    """Register a xorb upload of this session (``size``: its Content-Length); None when the session has no usable stream."""
    key = (user_id, repo.pk)
    _expire()
    with _streams_lock:
        stream = _streams.get(key)
        if stream is None:
            try:
                staged = Ingest(repo).open_file("xet/assembled")
            except Exception:  # noqa: BLE001 - a guess that cannot start is no error
                log.debug("xet assembly not started", exc_info=True)
                return None
            stream = _streams[key] = _Stream(key, staged)
    with stream.lock:
        if stream.broken:
            return None
        stream.touched = time.monotonic()
        entry = _Xorb(hex_hash)
        if size is not None and size < TAIL_BYTES:
            stream.tails.append(entry)
            return XorbFeed(stream, entry, live=False, tail=True)
        stream.order.append(entry)
        live = stream.live is None and stream.consumed == len(stream.order) - 1
        if live:
            stream.live = entry
        return XorbFeed(stream, entry, live)


def take(user_id: int, repo_id: int, entry: shard.FileEntry) -> StagedFile | None:
    """The session's stream as the file of ``entry`` when it holds exactly its whole xorbs, else None.

    The stream is removed from the session either way. The caller sets the expected
    sha256 and size and calls ``finish`` (which checks both) or ``abort``.
    """
    with _streams_lock:
        stream = _streams.pop((user_id, repo_id), None)
    if stream is None:
        return None
    with stream.lock:
        head = entry.terms[: len(stream.order)]
        tails = {seen.hex_hash: seen for seen in stream.tails}
        rest = [tails.pop(hashing.hash_hex(term.xorb), None) for term in entry.terms[len(head) :]]
        usable = (
            not stream.broken
            and stream.live is None
            and stream.consumed == len(stream.order) == len(head)
            and not tails  # every short xorb is one of the file's last terms
            and all(seen is not None and seen.done for seen in rest)
            and all(
                hashing.hash_hex(term.xorb) == seen.hex_hash and term.start == 0 and term.end == seen.chunks
                for term, seen in zip(entry.terms, stream.order + rest, strict=True)
            )
        )
        if usable:
            for seen in rest:
                _append_stored(stream, seen)
            if not stream.broken:
                return stream.staged
    _drop(stream, "the shard names other ranges")
    return None


def forget(user_id: int, repo_id: int) -> None:
    """Drop the session's stream (the shard did not use it)."""
    with _streams_lock:
        stream = _streams.pop((user_id, repo_id), None)
    if stream is not None:
        _drop(stream, "not used by the shard")


def _add(stream: _Stream, plain: bytes) -> None:
    """One plain chunk into the file (the ingest batches them for its hash and write lanes)."""
    with stream.lock:
        if stream.broken:
            return
        try:
            stream.staged.write(plain)
        except Exception:  # noqa: BLE001 - a limit or disk error ends the guess, not the xorb upload
            log.debug("xet assembly stopped", exc_info=True)
            _drop(stream, "the assembled file hit a limit")


def _catch_up(stream: _Stream) -> None:
    """Add, in order, the xorbs that finished while an earlier one was still arriving."""
    while not stream.broken and stream.live is None and stream.consumed < len(stream.order):
        entry = stream.order[stream.consumed]
        if not entry.done:
            return  # still arriving: it catches up when it is done
        _append_stored(stream, entry)
        stream.consumed += 1


def _append_stored(stream: _Stream, entry: _Xorb) -> None:
    """Add the plain chunks of a xorb that finished before its turn, read back from disk."""
    try:
        for plain in xorb.decode_range(entry.read_back(), entry.refs, 0, len(entry.refs)):
            _add(stream, plain)
    except Exception:  # noqa: BLE001 - e.g. removed by a cleanup meanwhile
        _drop(stream, "a xorb could not be read back")
        return
    entry.refs = entry.read_back = None


def _drop(stream: _Stream, why: str) -> None:
    with stream.lock:
        if stream.broken:
            return
        stream.broken = True
        log.debug("xet assembly dropped: %s", why)
        stream.staged.abort()


def _expire() -> None:
    now = time.monotonic()
    with _streams_lock:
        stale = [key for key, stream in _streams.items() if now - stream.touched > IDLE_SECONDS]
        dropped = [_streams.pop(key) for key in stale]
    for stream in dropped:
        _drop(stream, "idle")
