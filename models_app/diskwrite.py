"""How a large upload reaches the disk without filling the page cache.

Writing a multi-GiB upload through the page cache leaves every byte dirty in
memory until writeback catches up, evicts the pages that serve downloads, and
takes fresh pages from the allocator for every GiB. On the VMs this hub was
measured on, fresh pages cost about 2.3 s per GiB on top of a 0.3 s write,
more than hashing the same bytes (``bench/bench_ingest.py``). So a file being
received goes to disk one of two ways:

- ``DirectSink`` (default where the file system allows it): whole blocks are
  copied into one page-aligned buffer and written with ``O_DIRECT``, straight
  from that buffer to the device; only the last partial block goes through the
  page cache. The copy is the only CPU it costs.
- ``WriteBehind`` otherwise (tmpfs, some network file systems, non-Linux):
  plain writes, and, as PostgreSQL's ``backend_flush_after`` does, each window
  is handed to writeback (``sync_file_range``) and the window before it is
  dropped from the cache (``POSIX_FADV_DONTNEED``), so the same few MiB of
  pages serve the whole upload.

Correctness never depends on either: the bytes end up in the file the same way.
``Lane`` runs the write (or the hash) of one file on a thread of its own.
"""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import errno
import logging
import mmap
import os
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)

_WAIT_BEFORE, _WRITE, _WAIT_AFTER = 1, 2, 4
DEPTH = 3  # items (batches from a Fanout) a Lane may hold
BLOCK = 4096  # O_DIRECT offsets, lengths and buffer addresses are multiples of the block size
DIRECT_BUFFER = 4 * 1024 * 1024


def immutable(chunk):
    """``chunk``, or a copy of it when its buffer may change (a view of a bytearray).

    Lanes and parsers keep chunks (or views into them) after the caller moves on,
    so a caller that reuses its buffer must not be able to change them.
    """
    if isinstance(chunk, bytes) or memoryview(chunk).readonly:
        return chunk
    return bytes(chunk)


def each(step):
    """``step`` applied to every chunk of a batch, in order: a Lane step for batched submissions."""

    def run(batch) -> None:
        for chunk in batch:
            step(chunk)

    return run


def libc_function(name: str, argtypes: list, restype):
    """A C library function through ctypes (it releases the GIL), or None where libc lacks it."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        func = getattr(libc, name)
    except (OSError, AttributeError):
        return None
    func.argtypes, func.restype = argtypes, restype
    return func


def _load_sync_file_range():
    if not hasattr(os, "posix_fadvise"):
        return None
    return libc_function(
        "sync_file_range", [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint], ctypes.c_int
    )


_sync_file_range = _load_sync_file_range()


class WriteBehind:
    """Call ``advance(offset)`` after each write that ends at ``offset``; it flushes and drops behind it."""

    def __init__(self, fd: int, window: int):
        self.fd = fd
        self.window = window if _sync_file_range is not None else 0
        self.flushed = 0  # bytes handed to writeback
        self.dropped = 0  # bytes written and gone from the cache

    def advance(self, offset: int) -> None:
        if not self.window or offset - self.flushed < self.window:
            return
        # Start writeback of the new window without waiting for it.
        if _sync_file_range(self.fd, self.flushed, offset - self.flushed, _WRITE) != 0:
            self._give_up()
            return
        self.flushed = offset
        # The window before it has had a whole window's time to reach the disk: wait for
        # whatever is left of it, then let its pages go.
        end = self.flushed - self.window
        if end - self.dropped >= self.window:
            length = end - self.dropped
            if _sync_file_range(self.fd, self.dropped, length, _WAIT_BEFORE | _WRITE | _WAIT_AFTER) != 0:
                self._give_up()
                return
            os.posix_fadvise(self.fd, self.dropped, length, os.POSIX_FADV_DONTNEED)
            self.dropped = end

    def _give_up(self) -> None:
        # A file system without it (some FUSE or network mounts): write plainly from here on.
        log.debug("sync_file_range failed (errno %d); writing without write-behind", ctypes.get_errno())
        self.window = 0


class BufferedSink:
    """Sequential writes through the page cache, with write-behind."""

    def __init__(self, handle, window: int):
        self._handle = handle
        self._behind = WriteBehind(handle.fileno(), window)
        self._offset = 0

    def write(self, data) -> None:
        self._handle.write(data)
        self._offset += len(data)
        self._behind.advance(self._offset)

    def close(self) -> None:
        self._handle.flush()

    def discard(self) -> None:
        """Stop without finishing the file (it is about to be deleted)."""


_spare_buffers: list[mmap.mmap] = []  # reused: a fresh mapping pays a page fault per page on first use


def _take_buffer() -> mmap.mmap:
    try:
        return _spare_buffers.pop()
    except IndexError:
        return mmap.mmap(-1, DIRECT_BUFFER)  # anonymous mappings are page-aligned


def _give_buffer(buffer: mmap.mmap) -> None:
    if len(_spare_buffers) < 4:
        _spare_buffers.append(buffer)
    else:
        buffer.close()


class DirectSink:
    """Sequential writes with ``O_DIRECT`` through an aligned buffer; ``close`` writes the tail.

    Open with ``DirectSink.open(handle)``, which answers None where the file
    system refuses ``O_DIRECT``. ``handle`` (the buffered temp file) must not be
    written to meanwhile; it writes the last partial block.
    """

    def __init__(self, handle, fd: int):
        self._handle, self._fd = handle, fd
        self._write_fd = fd
        self._buffer = _take_buffer()
        self._view = memoryview(self._buffer)
        self._filled = 0
        self._offset = 0  # bytes of the file already on disk

    @classmethod
    def open(cls, handle) -> DirectSink | None:
        flag = getattr(os, "O_DIRECT", 0)
        if not flag:
            return None
        try:
            fd = os.open(handle.name, os.O_WRONLY | flag)
        except OSError:
            return None
        return cls(handle, fd)

    def write(self, data) -> None:
        data = memoryview(data).cast("B")
        while data:
            room = DIRECT_BUFFER - self._filled
            take = min(room, len(data))
            self._view[self._filled : self._filled + take] = data[:take]
            self._filled += take
            data = data[take:]
            if self._filled == DIRECT_BUFFER:
                self._flush(DIRECT_BUFFER)

    def _flush(self, length: int) -> None:
        """Write the first ``length`` bytes (a block multiple) of the buffer; keep the rest at its start."""
        written = 0
        while written < length:
            try:
                written += os.pwrite(self._write_fd, self._view[written:length], self._offset + written)
            except OSError as exc:
                if exc.errno != errno.EINVAL or self._write_fd != self._fd:
                    raise
                # Accepted at open but refused now (alignment rules of an odd device): buffered from here on.
                self._write_fd = self._handle.fileno()
        self._offset += length
        rest = self._filled - length
        if rest:
            self._view[:rest] = self._view[length : self._filled]
        self._filled = rest

    def close(self) -> None:
        try:
            whole = self._filled - self._filled % BLOCK
            if whole:
                self._flush(whole)
            if self._filled:
                os.pwrite(self._handle.fileno(), self._view[: self._filled], self._offset)
                self._offset += self._filled
                self._filled = 0
        finally:
            self.discard()

    def discard(self) -> None:
        """Stop without finishing the file (it is about to be deleted); the buffer is reused."""
        if self._fd < 0:
            return
        os.close(self._fd)
        self._fd = -1
        self._view.release()
        _give_buffer(self._buffer)


class Lane:
    """Calls ``step(item)`` for each item (a ``Fanout`` batch), in order, on a thread of its own, ``DEPTH`` behind at most.

    sha256, BLAKE3 and disk writes release the GIL, so an upload's hash lane and
    write lane run on two cores while the caller's thread parses the next chunk
    (the boundary search and Python hold the GIL); the queue lets them drift apart by a few
    chunks instead of waiting for each other on every chunk, and bounds the
    memory an upload holds to ``DEPTH`` batches.
    """

    def __init__(self, step, name: str):
        self._step = step
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._queued: collections.deque[Future] = collections.deque()

    def submit(self, chunk) -> None:
        while len(self._queued) >= DEPTH:
            self._queued.popleft().result()  # raises a failed step (disk full) here
        self._queued.append(self._thread.submit(self._step, chunk))

    def drain(self) -> None:
        """Wait for every queued step; the first failure is raised."""
        try:
            while self._queued:
                self._queued.popleft().result()
        finally:
            self._queued.clear()

    def close(self) -> None:
        for future in self._queued:
            future.cancel()
        self._thread.shutdown(wait=True)  # nothing touches the file or the hash after this returns


class Fanout:
    """Chunks handed to lanes (one or several, each gets every chunk) in batches of about ``batch`` bytes.

    Each hand-off wakes a lane's thread; at a few hundred KiB per network read,
    handing over every chunk cost more in thread wake-ups than the copy it saved.
    """

    def __init__(self, lanes: tuple[Lane, ...], batch: int = 4 * 1024 * 1024):
        self.lanes, self._limit = lanes, batch
        self._batch: list = []
        self._size = 0

    def add(self, chunk) -> None:
        self._batch.append(immutable(chunk))  # the lanes get to it after the caller moves on
        self._size += len(chunk)
        if self._size >= self._limit:
            self.flush()

    def flush(self) -> None:
        if self._batch:
            batch, self._batch, self._size = tuple(self._batch), [], 0
            for lane in self.lanes:
                lane.submit(batch)

    def drain(self, *, flush: bool = True) -> None:
        """Every batch done (``flush``: the partial one too); the first failure is raised."""
        if flush:
            self.flush()
        for lane in self.lanes:
            lane.drain()

    def close(self) -> None:
        self._batch, self._size = [], 0
        for lane in self.lanes:
            lane.close()


def close_file(handle, sink, lanes: Fanout | None, *, keep: bool) -> None:
    """End a file written through ``sink`` (and ``lanes``): every batch done, its error raised, and, if
    ``keep``, the last bytes written; the lanes stopped and the file closed whatever happens."""
    try:
        if lanes is not None:
            lanes.drain(flush=keep)
        if keep:
            sink.close()
    finally:
        if lanes is not None:
            lanes.close()
        sink.discard()
        handle.close()


def open_sink(handle, *, direct: bool, window: int):
    """The sink for a temp file that is about to receive a large file sequentially from offset 0."""
    if direct:
        sink = DirectSink.open(handle)
        if sink is not None:
            return sink
    return BufferedSink(handle, window)
