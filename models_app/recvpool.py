"""Page-aligned buffers the upload socket reader fills, placed so the file's bytes sit on the disk's block grid.

``O_DIRECT`` writes straight from memory only when the address, the length
and the file offset are all multiples of the block size (diskwrite.py). A
multipart body puts the file's first byte wherever the part headers end, so
bytes read from a socket into ordinary ``bytes`` must be copied into an
aligned buffer before they can be written; on this hub that copy cost about
0.23 s of CPU per GiB, a fifth of an upload's CPU. Instead the reader
(``streaming.pump``) asks ``space(phase)`` for room whose first address is
congruent to the file offset of the next byte (``phase``), reads the socket
into it, and hands the parser a read-only view (``filled``). Reads follow
each other in one buffer, so a run of them is one stretch of memory that the
disk writer takes whole.

A buffer is reused only when nothing holds a view of it: every view of an
``mmap`` holds a reference to it, so ``sys.getrefcount`` tells when the hash
and write lanes (and the parser) are done with it. The buffers are shared by
every request of the process: a fresh mapping costs a page fault and a
zeroed page per 4 KiB on first touch (about 9 us a page on the VMs measured
here, so 2.3 s per GiB), which a Xet upload, a request per 64 MiB xorb, paid
on every byte before they were shared. At most ``MAX_BUFFERS`` exist (64 MiB,
kept once touched); when every one is busy, ``space`` answers None and the
reader falls back to reading into fresh ``bytes``.
"""

from __future__ import annotations

import mmap
import sys
import threading

from models_app.diskwrite import BLOCK

BUFFER_BYTES = 4 * 1024 * 1024
MIN_ROOM = 256 * 1024  # a buffer with less room left is not read into again
MAX_BUFFERS = 16

_buffers: list[mmap.mmap] = []  # every buffer of the process; one is free when nothing references it but this list
_buffers_lock = threading.Lock()


class ReceivePool:
    """One request's socket reads; ``space`` then ``filled`` for each read."""

    def __init__(self) -> None:
        self._base: memoryview | None = None  # a view of the buffer being filled (it keeps the buffer ours)
        self._position = 0

    def space(self, phase: int) -> memoryview | None:
        """Writable room for the next read, starting at an address congruent to ``phase`` modulo ``BLOCK``."""
        if self._base is not None:
            position = self._position + (phase - self._position) % BLOCK  # buffers start page-aligned
            if BUFFER_BYTES - position >= MIN_ROOM:
                self._position = position
                return self._base[position:]
        self._base = None  # the old buffer is free again once the views handed out are gone
        self._base = _claim()
        if self._base is None:
            return None
        self._position = phase % BLOCK
        return self._base[self._position :]

    def filled(self, length: int) -> memoryview:
        """The ``length`` bytes just read into ``space``, read-only (lanes keep views only of immutable bytes)."""
        chunk = self._base[self._position : self._position + length].toreadonly()
        self._position += length
        return chunk

    def close(self) -> None:
        """Done reading: the buffer being filled goes back (once the views handed out are gone)."""
        self._base = None


def _claim() -> memoryview | None:
    """A view of a free buffer (which makes it busy), a new one while fewer than ``MAX_BUFFERS`` exist, or None."""
    with _buffers_lock:
        for index in range(len(_buffers)):
            # Two references when free: the list's and getrefcount's argument; each live view adds one.
            if sys.getrefcount(_buffers[index]) == 2:
                return memoryview(_buffers[index])
        if len(_buffers) < MAX_BUFFERS:
            _buffers.append(mmap.mmap(-1, BUFFER_BYTES))  # anonymous mappings are page-aligned
            return memoryview(_buffers[-1])
    return None
