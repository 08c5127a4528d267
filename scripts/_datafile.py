"""Helpers shared by the scripts/build_*.py rebuild scripts.

``write_npz`` writes a .npz that ``numpy.load`` reads, byte for byte the same on
every run: fixed member order, fixed timestamps, and deflate at level 9 (so the
bytes depend only on zlib's version; the content hash never does).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), version=(1, 0), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, member.getvalue(), compresslevel=9)
    return buf.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    # mtime=0 and no file name in the header, so the same content gives the same bytes.
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


def check_source(data: bytes, expected: str, what: str) -> None:
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise SystemExit(f"unexpected {what} (sha256 {digest}); expected {expected}")


def npz_content(data: bytes) -> bytes:
    """What a .npz holds (names, dtypes, shapes, values), whatever zlib packed it."""
    out = io.BytesIO()
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        for name in npz.files:
            array = npz[name]
            out.write(f"{name} {array.dtype.str} {list(array.shape)}\n".encode())
            out.write(np.ascontiguousarray(array).tobytes())
    return out.getvalue()


def finish(out, packed: bytes, check: bool, content: Callable[[bytes], bytes]) -> bool:
    """Write ``packed`` to ``out`` or, with ``check``, compare it with the committed file and exit.

    Identical bytes pass; so do different bytes with the same content (another
    zlib version packs the same values differently).
    """
    print(f"{out.name}: {len(packed)} bytes")
    if not check:
        out.write_bytes(packed)
        print(f"wrote {out}")
        return True
    committed = out.read_bytes() if out.exists() else b""
    if committed == packed:
        print("identical to the committed file")
        return True
    if committed and content(committed) == content(packed):
        print("same content as the committed file (the compressed bytes differ: another zlib?)")
        return True
    print("DIFFERS from the committed file")
    raise SystemExit(1)


def deb_files(path) -> dict[str, bytes]:
    """Regular files in a Debian package's data.tar.*, by path without the leading "./" (no dpkg needed)."""
    import tarfile

    data = Path(path).read_bytes()
    if not data.startswith(b"!<arch>\n"):
        raise SystemExit(f"{path}: not a Debian package")
    offset = 8
    while offset < len(data):
        header = data[offset : offset + 60]
        name, size = header[:16].decode().strip().rstrip("/"), int(header[48:58])
        body = data[offset + 60 : offset + 60 + size]
        if name.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(body)) as tar:
                return {m.name.removeprefix("./"): tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
        offset += 60 + size + (size % 2)  # ar members are 2-byte aligned
    raise SystemExit(f"{path}: no data.tar member")


def csv_gz_content(data: bytes) -> bytes:
    return gzip.decompress(data)
