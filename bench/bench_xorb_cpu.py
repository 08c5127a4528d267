"""The hub's CPU per GiB of xorbs, against the hashing it cannot skip, measured in the same run.

A Xet upload on two cores is bound by CPU: the client (chunking, hashing,
compression attempts) and the hub share the cores, so every second of the
hub's CPU shows up as about half a second of upload time
(bench_xet_upload.py). This bench runs the hub's receive path for 1 GiB of
xorbs in one process, with no network: each xorb is handed over in 256 KiB
``bytes`` reads (as the server's ``receive()`` gives them), written to its
temp file, parsed, every chunk BLAKE3-checked, and its plain chunks assembled
into a blob (sha256 and the buffered write, the speculative assembly of
assembly.py), then finished and renamed as after a real upload.

Prints the CPU seconds of all threads (``time.process_time``) against the
hashing alone (BLAKE3 of every chunk + sha256 of the file): the ratio is the
overhead of everything else (Python per chunk, copies, thread hand-offs,
system calls).

    python bench/bench_xorb_cpu.py            # 1 GiB (16 xorbs of 64 MiB)
    XORB_BENCH_MB=256 python bench/bench_xorb_cpu.py
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_data = tempfile.mkdtemp(prefix="xorb-bench-")
os.environ["HUB_DATA_DIR"] = _data
atexit.register(shutil.rmtree, _data, ignore_errors=True)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

call_command("migrate", verbosity=0)  # a throwaway SQLite database: finish() records the blob

from django.contrib.auth import get_user_model  # noqa: E402

from models_app.repos.rules import repo_create  # noqa: E402
from models_app.xet import assembly, cas, hashing, shard, xorb  # noqa: E402

SIZE = int(os.environ.get("XORB_BENCH_MB", "1024")) * 1024 * 1024
XORB = 64 * 1024 * 1024
READ = 256 * 1024
DISTINCT = 4  # different xorbs built (each sent SIZE / XORB / DISTINCT times)


def build_xorb(rng: np.random.Generator) -> tuple[bytes, bytes, list[memoryview]]:
    """(serialized xorb, its hash, its plain chunks): random bytes cut into 8-128 KiB chunks, stored uncompressed."""
    data = rng.bytes(XORB - 2 * 1024 * 1024)  # room for the headers under the 64 MiB cap
    view = memoryview(data)
    parts, chunks, at = [], [], 0
    while at < len(data):
        size = min(int(rng.integers(8 * 1024, 120 * 1024)), len(data) - at)
        parts.append(bytes([0]) + size.to_bytes(3, "little") + bytes([xorb.SCHEME_NONE]) + size.to_bytes(3, "little"))
        parts.append(view[at : at + size])
        chunks.append(view[at : at + size])
        at += size
    body = b"".join(parts)
    digest = hashing.xorb_hash((hashing.chunk_hash(c), len(c)) for c in chunks)
    return body, digest, chunks


def hashing_only(xorbs, rounds: int) -> float:
    start = time.process_time()
    sha = hashlib.sha256()
    for index in range(rounds):
        for chunk in xorbs[index % len(xorbs)][2]:
            hashing.chunk_hash(chunk)
            sha.update(chunk)
    return time.process_time() - start


def hub_path(xorbs, rounds: int, repo) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of receiving ``rounds`` xorbs of one upload session into its assembled blob.

    Each xorb goes through what the streamed xorb route does (``cas.XorbUpload``
    with the session's ``assembly.xorb_started`` feed), in ``bytes`` reads as
    the server delivers them; the shard's ``assembly.take`` then hands over the
    assembled file.
    """
    owner_id = repo.owner_id
    start_cpu, start = time.process_time(), time.perf_counter()
    terms = []
    for index in range(rounds):
        body, digest, chunks = xorbs[index % len(xorbs)]
        hex_hash = hashing.hash_hex(digest)
        upload = cas.XorbUpload(
            hex_hash, xorb.MAX_XORB_BODY, assembly.xorb_started(owner_id, repo, hex_hash, len(body))
        )
        try:
            for at in range(0, len(body), READ):
                upload.write(body[at : at + READ])  # a fresh bytes per read, as the server's receive() gives
            upload.finish()
        finally:
            upload.abort()
        terms.append(shard.Term(digest, sum(map(len, chunks)), 0, len(chunks)))
    staged = assembly.take(owner_id, repo.pk, shard.FileEntry(b"f" * 32, terms))
    # A stream the assembly dropped (a limit, a refused xorb) would make the figure meaningless.
    assert staged is not None, "the assembly did not keep the upload's stream"
    blob = staged.finish()
    spent = time.process_time() - start_cpu, time.perf_counter() - start
    expected = hashlib.sha256()
    for index in range(rounds):
        for chunk in xorbs[index % len(xorbs)][2]:
            expected.update(chunk)
    assert blob.sha256 == expected.hexdigest(), "the assembled blob is not the xorbs' chunks in order"
    return spent


def main() -> None:
    rng = np.random.default_rng(7)
    xorbs = [build_xorb(rng) for _ in range(DISTINCT)]
    rounds = max(1, SIZE // XORB)
    gib = rounds * XORB / 2**30
    owner = get_user_model().objects.create_user("bench")
    hub_path(xorbs, 2, repo_create(owner, "warm-up"))  # the receive buffers, imports, the temp folders
    hashes = hashing_only(xorbs, rounds)
    cpu, wall = hub_path(xorbs, rounds, repo_create(owner, "measured"))
    print(f"xorbs: {rounds} x 64 MiB ({gib:.2f} GiB)")
    print(f"required hashing (BLAKE3 of the chunks + sha256): {hashes / gib:5.2f} s CPU per GiB")
    print(f"hub receive path (all threads)                  : {cpu / gib:5.2f} s CPU per GiB ({wall / gib:.2f} s wall)")
    print(f"ratio hub / hashing: {cpu / hashes:.2f}x")


if __name__ == "__main__":
    main()
