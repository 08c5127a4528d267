"""Hash and write lanes: the threads an upload's bytes are handed to while the request thread parses.

sha256, BLAKE3 and file writes release the GIL, so hashing a large file on
one thread and writing it on another, while the request's thread parses the
next chunk, spreads an upload over the machine's cores instead of doing the
three one after the other. Files are written with plain buffered writes to a
temp file beside the store and renamed into place once complete (storage.py).
"""

from __future__ import annotations

import collections
from concurrent.futures import Future, ThreadPoolExecutor

DEPTH = 3  # items (batches from a Fanout) a Lane may hold


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


class Lane:
    """Calls ``step(item)`` for each item (a ``Fanout`` batch), in order, on a thread of its own, ``DEPTH`` behind at most.

    The queue lets the lanes of one file drift apart by a few chunks instead
    of waiting for each other on every chunk, and bounds the memory an upload
    holds to ``DEPTH`` batches.
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


def close_file(handle, lanes: Fanout | None, *, keep: bool) -> None:
    """End a file written through ``lanes``: every batch done and its error raised, the lanes stopped
    and the file closed whatever happens; ``keep``: the last partial batch is written too."""
    try:
        if lanes is not None:
            lanes.drain(flush=keep)
    finally:
        if lanes is not None:
            lanes.close()
        handle.close()
