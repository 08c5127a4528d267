"""Rebuild models_app/validation/data/fashion_mnist_subset.npz byte for byte.

The source is Zalando's Fashion-MNIST as Debian packages it
(``dataset-fashion-mnist``, files under /usr/share/datasets/fashion-mnist/).
Get the package without installing it:

    apt-get update && cd /tmp/fashion && apt-get download dataset-fashion-mnist
    python scripts/build_fashion_mnist_subset.py /tmp/fashion/dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb

Only the official 10,000-image test set is read; a seeded, balanced split of it
gives 1,000 train (100 per class) and 500 test (50 per class) images, kept as
uint8 (``x_train``, ``y_train``, ``x_test``, ``y_test``). ``--check`` rebuilds
in memory and compares with the committed file.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _datafile import check_source, deb_files, finish, npz_bytes, npz_content  # noqa: E402

from models_app.validation import datasets  # noqa: E402

ROOT = "usr/share/datasets/fashion-mnist/"
# sha256 of the decompressed IDX files, as published by Zalando.
IMAGES = ("t10k-images-idx3-ubyte.gz", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b")
LABELS = ("t10k-labels-idx1-ubyte.gz", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34")
SEED = 20261207


def read_idx(files: dict[str, bytes], member: tuple[str, str]) -> np.ndarray:
    data = gzip.decompress(files[ROOT + member[0]])
    check_source(data, member[1], member[0])
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("deb", type=Path, help="dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb")
    parser.add_argument("--check", action="store_true", help="compare with the committed file, write nothing")
    args = parser.parse_args()
    files = deb_files(args.deb)
    x, y = read_idx(files, IMAGES), read_idx(files, LABELS)
    train, test = datasets.balanced_split(y.tolist(), datasets.MAX_TRAIN, datasets.MAX_TEST, SEED)
    packed = npz_bytes({"x_train": x[train], "y_train": y[train], "x_test": x[test], "y_test": y[test]})
    finish(datasets.FASHION_MNIST_PATH, packed, args.check, npz_content)
    datasets.sha256.cache_clear()
    print(f"dataset sha256 (fashion-mnist, as loaded) {datasets.sha256('fashion-mnist')}")


if __name__ == "__main__":
    main()
