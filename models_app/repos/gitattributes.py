"""The ``.gitattributes`` every new repo starts with (``initial.py``), and its blob id.

It is the hub's own file, so it counts against nobody's storage quota (``quota.py``).
"""

from __future__ import annotations

import hashlib

_LFS_PATTERNS = (
    "*.7z *.arrow *.bin *.bz2 *.ckpt *.ftz *.gz *.h5 *.joblib *.lfs.* *.mlmodel *.model *.msgpack *.npy *.npz "
    "*.onnx *.ot *.parquet *.pb *.pickle *.pkl *.pt *.pth *.rar *.safetensors saved_model/**/* *.tar.* *.tar "
    "*.tflite *.tgz *.wasm *.xz *.zip *.zst *tfevents*"
).split()
GITATTRIBUTES = "".join(f"{pattern} filter=lfs diff=lfs merge=lfs -text\n" for pattern in _LFS_PATTERNS).encode()
GITATTRIBUTES_SHA256 = hashlib.sha256(GITATTRIBUTES).hexdigest()
