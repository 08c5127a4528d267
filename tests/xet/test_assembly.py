"""Speculative assembly (models_app/xet/assembly.py) fed in the orders the real client produces.

The three xorbs here are three runs of chunks of the real client's vector
xorb under names of their own: assembly matches xorbs by the hashes the shard
names and checks nothing itself (the CAS has verified each xorb before
``done``), so the test can play a whole upload session without building new
xorbs. Whatever the order, the file that ``take`` hands over must be the
shard's terms in the shard's order, byte for byte.
"""

from __future__ import annotations

import hashlib
import itertools

import pytest

from models_app.xet import assembly, hashing, shard, xorb
from tests.xet.vectors import XORB_HEX

pytestmark = pytest.mark.django_db

FULL = 64 * 1024 * 1024  # Content-Length of a full xorb
NAMES = {name: bytes([n]) * 32 for n, name in enumerate(("first", "second", "tail"), start=1)}


@pytest.fixture
def vector(xorb_bytes) -> dict[str, tuple[list[xorb.ChunkRef], list[bytes]]]:
    """name -> (chunk refs into the vector xorb, their plain bytes): three different runs of chunks."""
    refs = xorb.verify_xorb(xorb_bytes, hashing.hash_from_hex(XORB_HEX))
    third = len(refs) // 3
    assert third > 0
    runs = {"first": refs[:third], "second": refs[third : 2 * third], "tail": refs[2 * third :]}
    return {
        name: (run, [bytes(p) for p in xorb.decode_range(xorb_bytes, run, 0, len(run))]) for name, run in runs.items()
    }


def start(owner, repo, name: str, size: int):
    return assembly.xorb_started(owner.pk, repo, hashing.hash_hex(NAMES[name]), size)


def finish(feed, name, vector, xorb_bytes) -> None:
    refs, plain = vector[name]
    if feed.live:
        for chunk in plain:
            feed.chunk(chunk)
    feed.done(refs, lambda: xorb_bytes)


def take(owner, repo, names, vector):
    terms = [shard.Term(NAMES[n], sum(map(len, vector[n][1])), 0, len(vector[n][0])) for n in names]
    staged = assembly.take(owner.pk, repo.pk, shard.FileEntry(b"f" * 32, terms))
    if staged is None:
        return None
    expected = b"".join(chunk for n in names for chunk in vector[n][1])
    staged.expected_sha256 = hashlib.sha256(expected).hexdigest()
    staged.expected_size = len(expected)
    return staged.finish()  # refuses a file of other bytes or another length


def test_a_tail_started_before_the_last_full_xorb_is_appended_in_file_order(owner, repo, vector, xorb_bytes):
    """Seen with hf_xet at 1 GiB: the short last xorb's upload began before the full one ahead of it."""
    first = start(owner, repo, "first", FULL)
    tail = start(owner, repo, "tail", 700_000)
    second = start(owner, repo, "second", FULL)
    finish(first, "first", vector, xorb_bytes)
    finish(tail, "tail", vector, xorb_bytes)
    finish(second, "second", vector, xorb_bytes)
    blob = take(owner, repo, ["first", "second", "tail"], vector)
    assert blob is not None, "the assembled file was dropped"


@pytest.mark.parametrize("started", list(itertools.permutations(["first", "second", "tail"])))
def test_whatever_the_order_the_file_is_never_other_bytes(owner, repo, vector, xorb_bytes, started):
    """Any start order: ``take`` hands over the file in the shard's order, or nothing (then it is rebuilt)."""
    feeds = {name: start(owner, repo, name, 700_000 if name == "tail" else FULL) for name in started}
    for name in started:
        finish(feeds[name], name, vector, xorb_bytes)
    blob = take(owner, repo, ["first", "second", "tail"], vector)  # finish() checks size and sha256
    if started in (("first", "second", "tail"), ("first", "tail", "second"), ("tail", "first", "second")):
        assert blob is not None, "full xorbs in file order, the tail anywhere: assembled"
