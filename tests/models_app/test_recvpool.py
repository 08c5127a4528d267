"""The socket reader's buffers (recvpool.py) and the O_DIRECT sink that writes from them (diskwrite.py).

The reader puts each read so the file's bytes sit on the disk's block grid;
the sink writes such runs from where they lie and copies anything else. Both
must give the same file, byte for byte, whatever the read sizes, and a buffer
must never be refilled while anything still holds a view of it.
"""

from __future__ import annotations

import os
import random
import tempfile

import pytest

from models_app import recvpool
from models_app.diskwrite import BLOCK, DirectSink, address_of
from models_app.recvpool import ReceivePool


def reads(pool: ReceivePool, data: bytes, anchor: int, sizes: random.Random, start: int = 0):
    """``data`` (the body from offset ``start``) as the socket reader hands it on: views filled in the pool."""
    offset = start
    position = 0
    while position < len(data):
        room = pool.space((offset - anchor) % BLOCK)
        assert room is not None
        take = min(len(room), sizes.choice([1, 700, 4096, 65_536, 300_001, 1 << 20]), len(data) - position)
        room[:take] = data[position : position + take]
        room = None
        chunk = pool.filled(take)
        yield chunk
        position += take
        offset += take


def test_reads_land_on_the_files_block_grid():
    pool, anchor = ReceivePool(), 137  # the file's first byte is body byte 137 (after the part headers)
    body = os.urandom(9 * 1024 * 1024)
    offset = 0
    for chunk in reads(pool, body, anchor, random.Random(1)):
        if offset >= anchor:
            assert address_of(chunk) % BLOCK == (offset - anchor) % BLOCK
        assert bytes(chunk) == body[offset : offset + len(chunk)]
        offset += len(chunk)


def fill(pool: ReceivePool) -> memoryview:
    """One read that fills the rest of a buffer: the view the lanes would keep."""
    room = pool.space(0)
    size = len(room)
    room[:] = b"x" * size
    room = None
    return pool.filled(size)


def test_a_buffer_is_not_refilled_while_a_view_of_it_lives(monkeypatch):
    monkeypatch.setattr(recvpool, "_buffers", [])
    monkeypatch.setattr(recvpool, "MAX_BUFFERS", 2)
    first_request, second_request = ReceivePool(), ReceivePool()
    held = [fill(first_request), fill(second_request)]  # the lanes keep a view of each
    first_request.close()
    second_request.close()
    assert ReceivePool().space(0) is None  # both busy: the reader falls back to plain bytes
    first = bytes(held[0])
    held.pop(0)  # the lanes let go of the first buffer
    room = ReceivePool().space(0)  # a later request takes it
    assert room is not None
    room[:4] = b"new!"
    assert first == b"x" * len(first)  # nothing that was handed out changed
    assert bytes(held[0][:4]) == b"xxxx"
    assert len(recvpool._buffers) == 2  # reused, not mapped afresh


@pytest.fixture
def direct_file():
    with tempfile.NamedTemporaryFile(dir=os.getcwd(), prefix=".sink-", suffix=".part") as handle:
        sink = DirectSink.open(handle)
        if sink is None:
            pytest.skip("this file system refuses O_DIRECT")
        yield handle, sink


@pytest.mark.parametrize("anchor", [0, 1, 137, 511, 4096 + 3])
def test_direct_sink_writes_aligned_reads_and_stray_bytes_exactly(direct_file, anchor):
    handle, sink = direct_file
    data = os.urandom(11 * 1024 * 1024 + 333)
    pool, sizes = ReceivePool(), random.Random(anchor)
    written = bytearray()
    position = 0
    while position < len(data):
        if sizes.random() < 0.1:  # now and then bytes from elsewhere (a boundary's neighbourhood, the first read)
            piece = data[position : position + sizes.choice([1, 50, 70_000])]
            sink.write(piece)
            written += piece
            position += len(piece)
            continue
        for chunk in reads(pool, data[position : position + 3 * 1024 * 1024], anchor, sizes, start=anchor + position):
            sink.write(chunk)
            written += chunk
        position = len(written)
    sink.close()
    handle.flush()
    with open(handle.name, "rb") as stored:
        assert stored.read() == bytes(written) == data
