"""Test vectors captured from the real client (hf_xet 1.8.0) uploading three files to a logging server.

The files are regenerated here from a seed; ``data/`` holds the xorb and the shard
the client sent for them, and the hashes the client reported.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"
XORB_HEX = "4f3a3c5a1a130d3b3987e269133f676d0298cb7847bafe9ffd60a0cae70960c6"
XORB_PATH = DATA / f"{XORB_HEX}.xorb"
SHARD_PATH = DATA / "vectors.shard"
# name -> (xet file hash as the client printed it, sha256)
FILE_HASHES = {
    "random": (
        "33b760389705fa20d25f77aa9a5b57f1294e7a48196a1e17287fac0efe475e81",
        "5020780891fe71a51d39233062a69abca969a802771039fbc8060926f9c08dde",
    ),
    "floats": (
        "7c965c4600622bf230bf3874b9b4f030e608c86ed13df740ef490a183c1f9b67",
        "0d86e349fc03f889469deb2cec9122670d15bcde35079f5865cebf3b577a8785",
    ),
    "text": (
        "52d86f09cac656ee37c47542dd481e66fb26de6996f1cadb213ae63045a9b8dd",
        "57e7620206f2c7061f552a266272c8be587a092f694967436535402c706944aa",
    ),
}


def vector_files() -> dict[str, bytes]:
    rng = np.random.default_rng(7)
    random = rng.bytes(150000)
    floats = (rng.standard_normal(40000).astype(np.float32) * 0.01).tobytes()
    text = b"".join(b"line %d of the xet test vector\n" % i for i in range(3000))
    return {"random": random, "floats": floats, "text": text}
