"""How a large upload reaches the disk without filling the page cache.

Writing a multi-GiB upload through the page cache leaves every byte dirty in
memory until writeback catches up, evicts the pages that serve downloads, and
takes fresh pages from the allocator for every GiB. On the VMs this hub was
measured on, fresh pages cost about 2.3 s per GiB on top of a 0.3 s write,
more than hashing the same bytes (``bench/bench_ingest.py``). So a file being
received goes to disk one of two ways:

- ``DirectSink`` (default where the file system allows it): whole blocks are
  written with ``O_DIRECT``, straight from memory to the device; only the last
  partial block goes through the page cache. Chunks whose memory lies on the
  file's block grid (the socket reader puts them there, recvpool.py) are
  written from where they are; other bytes are copied into one page-aligned
  buffer first, and that copy is then the only CPU it costs.
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


class _PyBuffer(ctypes.Structure):
    """CPython's ``Py_buffer``, to read the address of any object's memory."""

    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.c_void_p),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.c_void_p),
        ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
_get_buffer.restype = ctypes.c_int
_release_buffer = ctypes.pythonapi.PyBuffer_Release
_release_buffer.argtypes = [ctypes.POINTER(_PyBuffer)]
_release_buffer.restype = None


def address_of(data) -> int:
    """The address of the first byte of a contiguous buffer (bytes, bytearray, memoryview, mmap).

    Only meaningful while the caller holds ``data``; nothing here keeps it alive.
    """
    view = _PyBuffer()
    if _get_buffer(data, ctypes.byref(view), 0) != 0:  # PyBUF_SIMPLE: contiguous bytes, read-only allowed
        raise BufferError("not a contiguous buffer")
    try:
        return view.buf or 0
    finally:
        _release_buffer(ctypes.byref(view))


def raw_bytes(address: int, length: int):
    """A buffer over ``length`` bytes at ``address``; the caller keeps the owner of that memory alive."""
    return memoryview((ctypes.c_char * length).from_address(address)).cast("B")


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
    """Sequential writes with ``O_DIRECT``; ``close`` writes the tail.

    Open with ``DirectSink.open(handle)``, which answers None where the file
    system refuses ``O_DIRECT``. ``handle`` (the buffered temp file) must not be
    written to meanwhile; it writes the last partial block.

    ``O_DIRECT`` wants every address, length and file offset on the block grid.
    A chunk of at least ``RUN_FROM`` bytes whose address is congruent to its
    file offset is written from where it lies: chunks that follow it in memory
    join it into one run, written in one ``pwritev`` once it reaches
    ``DIRECT_BUFFER`` (the views are held until then); the run's partial blocks
    at either end go through the bounce buffer. Anything else is copied into
    the page-aligned bounce buffer and written from there.
    """

    RUN_FROM = 64 * 1024

    def __init__(self, handle, fd: int):
        self._handle, self._fd = handle, fd
        self._write_fd = fd
        self._buffer = _take_buffer()
        self._view = memoryview(self._buffer)
        self._filled = 0  # bounce-buffer bytes, at file offset self._offset
        self._offset = 0  # bytes of the file already on disk (a block multiple until close)
        self._run: list[memoryview] = []  # chunks contiguous in memory, right after the bounce bytes
        self._run_address = 0
        self._run_length = 0

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
        if self._run_length:
            if address_of(data) == self._run_address + self._run_length:
                self._run.append(data)
                self._run_length += len(data)
                if self._run_length >= DIRECT_BUFFER:
                    self._write_run()
                return
            self._write_run()
        if len(data) >= self.RUN_FROM:
            position = self._offset + self._filled
            address = address_of(data)
            if address % BLOCK == position % BLOCK:
                head = -position % BLOCK  # completes the bounce buffer's last block
                self._copy(data[:head])
                self._run, self._run_address, self._run_length = [data], address + head, len(data) - head
                return
        self._copy(data)

    def _copy(self, data: memoryview) -> None:
        while data:
            room = DIRECT_BUFFER - self._filled
            take = min(room, len(data))
            self._view[self._filled : self._filled + take] = data[:take]
            self._filled += take
            data = data[take:]
            if self._filled == DIRECT_BUFFER:
                self._flush(DIRECT_BUFFER)

    def _write_run(self) -> None:
        """Write the bounce bytes and the run's whole blocks in one go; its last partial block goes to the bounce."""
        whole = self._run_length - self._run_length % BLOCK
        parts = [self._view[: self._filled]] if self._filled else []
        if whole:
            parts.append(raw_bytes(self._run_address, whole))
        self._pwrite(parts, self._filled + whole)
        self._offset += self._filled + whole
        self._filled = 0
        rest = self._run_length - whole
        if rest:
            self._view[:rest] = raw_bytes(self._run_address + whole, rest)
            self._filled = rest
        self._run, self._run_length = [], 0  # the views go: their buffers may be reused

    def _pwrite(self, parts: list, length: int) -> None:
        """Write ``parts`` (block multiples, on the block grid) at ``self._offset``, all of them."""
        written = 0
        while written < length:
            try:
                if written == 0:
                    written = os.pwritev(self._write_fd, parts, self._offset)
                else:  # a short write (rare): the rest, one part at a time
                    flat = b"".join(bytes(part) for part in parts)
                    written += os.pwrite(self._write_fd, flat[written:], self._offset + written)
            except OSError as exc:
                if exc.errno != errno.EINVAL or self._write_fd != self._fd:
                    raise
                # Accepted at open but refused now (alignment rules of an odd device): buffered from here on.
                self._write_fd = self._handle.fileno()

    def _flush(self, length: int) -> None:
        """Write the first ``length`` bytes (a block multiple) of the bounce buffer; keep the rest at its start."""
        self._pwrite([self._view[:length]], length)
        self._offset += length
        rest = self._filled - length
        if rest:
            self._view[:rest] = self._view[length : self._filled]
        self._filled = rest

    def close(self) -> None:
        try:
            if self._run_length:
                self._write_run()
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
        self._run, self._run_length = [], 0
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
