"""Read a dataset revision's labelled examples in the layouts Hugging Face's ``datasets`` library uses.

- **CSV or JSONL** with a text column and a label column: ``text`` and
  ``label`` by default, or the columns the dataset card names (``text_column``
  and ``label_column`` at the top of the front matter, or HF's
  ``train-eval-index[0].col_mapping``). Files named for a split (``train``,
  ``test``, ``validation``, as ``datasets`` infers them) keep their split;
  anything else is training data.
- **imagefolder**: ``train/<class>/<file>.png`` (or ``.jpg``), and optionally
  ``test/<class>/...``; the folder name is the label. Images are read with
  Pillow as grayscale and resized to ``IMAGE_SIZE`` square (the finder's
  image models are fed from this array).

Everything a user can get wrong raises ``LayoutError`` naming the file and the
problem. Limits (examples, bytes, image pixels) are enforced while reading, so
a large upload is refused before it is decoded. Pure Python, numpy and Pillow:
nothing here imports Django, and nothing is unpickled.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

MAX_EXAMPLES = 2000
MAX_BYTES = 64 * 1024**2  # of data files read, in all
MAX_IMAGE_PIXELS = 4096 * 4096  # per image, before it is decoded (Pillow's bomb check uses the same idea)
MAX_TEXT_CHARS = 4000
IMAGE_SIZE = 64
MIN_PER_CLASS = 2
TABLE_SUFFIXES = (".csv", ".jsonl", ".json")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SPLIT_WORDS = {"train": "train", "training": "train", "test": "test", "testing": "test", "validation": "test",
               "valid": "test", "val": "test", "dev": "test", "eval": "test"}  # fmt: skip


class LayoutError(ValueError):
    """The dataset cannot be read; ``str()`` is one sentence naming the file and the problem."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path}: {problem}" if path else problem)
        self.path, self.problem = path, problem


@dataclass
class Labelled:
    """A dataset as the finder uses it: examples, integer labels, the label names, where each came from."""

    modality: str  # "text" or "image"
    examples: list[str] | np.ndarray  # texts, or float32 (n, IMAGE_SIZE, IMAGE_SIZE) in [0, 1]
    labels: np.ndarray  # int64
    label_names: list[str]
    splits: list[str]  # "train" or "test" per example, as the files said ("train" when they did not)
    files: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    def sha256(self) -> str:
        """The content hash the feature cache is keyed by: examples, labels and names, not file names."""
        digest = hashlib.sha256(json.dumps(self.label_names).encode())
        if self.modality == "text":
            digest.update(json.dumps(list(self.examples), ensure_ascii=False).encode())
        else:
            digest.update(np.ascontiguousarray(self.examples, dtype=np.float32).tobytes())
        digest.update(np.asarray(self.labels, dtype=np.int64).tobytes())
        return digest.hexdigest()


Reader = Callable[[str], bytes]


def read_dataset(paths: Mapping[str, int], read: Reader, card: Mapping | None = None) -> Labelled:
    """The labelled examples of a revision: ``paths`` maps each file to its size, ``read`` gives its bytes."""
    images = {p: s for p, s in paths.items() if p.lower().endswith(IMAGE_SUFFIXES) and _image_split(p)}
    if images:
        return _read_imagefolder(images, read)
    tables = {p: s for p, s in paths.items() if p.lower().endswith(TABLE_SUFFIXES) and not _is_metadata(p)}
    if tables:
        return _read_tables(tables, read, card or {})
    raise LayoutError(
        "",
        "no labelled data found: add a CSV or JSONL file with 'text' and 'label' columns, "
        "or images as train/<class>/<file>.png",
    )


# ---------------------------------------------------------------- tables


def _is_metadata(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return name in {"config.json", "dataset_infos.json", "dataset_info.json", "metadata.jsonl", "state.json"}


def _split_of(path: str) -> str:
    for word in re.split(r"[/_.\-]", path.lower()):
        if word in SPLIT_WORDS:
            return SPLIT_WORDS[word]
    return "train"


def _columns(card: Mapping) -> tuple[str, str]:
    text, label = card.get("text_column"), card.get("label_column")
    index = card.get("train-eval-index")
    if isinstance(index, list) and index and isinstance(index[0], dict):
        mapping = index[0].get("col_mapping") or {}
        if isinstance(mapping, dict):
            for source, target in mapping.items():
                text = source if target == "text" and not text else text
                label = source if target in ("label", "target") and not label else label
    return str(text or "text"), str(label or "label")


def _rows(path: str, data: bytes) -> list[dict]:
    try:
        body = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LayoutError(path, f"not UTF-8 text (byte {exc.start})") from None
    if path.lower().endswith(".csv"):
        try:
            return list(csv.DictReader(io.StringIO(body)))
        except csv.Error as exc:
            raise LayoutError(path, f"not a readable CSV file ({exc})") from None
    rows = []
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            if number == 1 and path.lower().endswith(".json"):
                raise LayoutError(path, "a .json file must hold one JSON object per line (JSON Lines)") from None
            raise LayoutError(path, f"line {number} is not JSON") from None
        if not isinstance(row, dict):
            raise LayoutError(path, f"line {number} is not a JSON object")
        rows.append(row)
    return rows


def _read_tables(tables: Mapping[str, int], read: Reader, card: Mapping) -> Labelled:
    text_col, label_col = _columns(card)
    _check_bytes(tables)
    texts: list[str] = []
    raw_labels: list = []
    splits: list[str] = []
    for path in sorted(tables):
        rows = _rows(path, read(path))
        if not rows:
            raise LayoutError(path, "has no rows")
        missing = [c for c in (text_col, label_col) if c not in rows[0]]
        if missing:
            names = ", ".join(repr(c) for c in rows[0]) or "none"
            raise LayoutError(path, f"no {' or '.join(repr(c) for c in missing)} column (columns: {names})")
        for number, row in enumerate(rows, start=2 if path.lower().endswith(".csv") else 1):
            text, label = row.get(text_col), row.get(label_col)
            if not isinstance(text, str) or not text.strip():
                raise LayoutError(path, f"row {number} has an empty {text_col!r}")
            if label is None or (isinstance(label, str) and not label.strip()) or isinstance(label, dict | list):
                raise LayoutError(path, f"row {number} has no usable {label_col!r}")
            texts.append(text.strip()[:MAX_TEXT_CHARS])
            raw_labels.append(label)
            splits.append(_split_of(path))
            if len(texts) > MAX_EXAMPLES:
                raise LayoutError(path, f"more than {MAX_EXAMPLES:,} examples; the finder reads at most that many")
    labels, names = _encode(raw_labels, next(iter(sorted(tables))))
    return Labelled("text", texts, labels, names, splits, sorted(tables))


# ---------------------------------------------------------------- images


def _image_split(path: str) -> str | None:
    parts = path.split("/")
    if len(parts) == 3 and parts[0].lower() in SPLIT_WORDS:
        return SPLIT_WORDS[parts[0].lower()]
    return None


def _read_imagefolder(images: Mapping[str, int], read: Reader) -> Labelled:
    from PIL import Image, UnidentifiedImageError

    if not any(_image_split(p) == "train" for p in images):
        raise LayoutError("", "an image dataset needs a train/<class>/ folder")
    if len(images) > MAX_EXAMPLES:
        raise LayoutError("train/", f"{len(images):,} images; the finder reads at most {MAX_EXAMPLES:,}")
    _check_bytes(images)
    arrays, raw_labels, splits = [], [], []
    for path in sorted(images):
        try:
            with Image.open(io.BytesIO(read(path))) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    raise LayoutError(path, f"{image.width}x{image.height} pixels; at most {MAX_IMAGE_PIXELS:,}")
                gray = image.convert("L").resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR)
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
            raise LayoutError(path, f"not a readable PNG or JPEG image ({type(exc).__name__})") from None
        arrays.append(np.asarray(gray, dtype=np.float32) / 255.0)
        raw_labels.append(path.split("/")[1])
        splits.append(_image_split(path) or "train")
    labels, names = _encode(raw_labels, "train/")
    return Labelled("image", np.stack(arrays), labels, names, splits, sorted(images))


# ---------------------------------------------------------------- shared


def _check_bytes(files: Mapping[str, int]) -> None:
    total = sum(files.values())
    if total > MAX_BYTES:
        raise LayoutError("", f"the data files hold {total / 1024**2:,.0f} MiB; the finder reads at most "
                              f"{MAX_BYTES / 1024**2:,.0f} MiB")  # fmt: skip


def _encode(raw: list, where: str) -> tuple[np.ndarray, list[str]]:
    """Integer ids for the labels (numbers in numeric order, else names in alphabetical order)."""
    names = sorted({str(v) for v in raw}, key=lambda v: (0, float(v), v) if _is_number(v) else (1, 0.0, v))
    if len(names) < 2:
        raise LayoutError(where, f"only one class ({names[0]!r}); the finder needs at least 2")
    index = {name: i for i, name in enumerate(names)}
    labels = np.array([index[str(v)] for v in raw], dtype=np.int64)
    counts = np.bincount(labels, minlength=len(names))
    small = [names[i] for i, n in enumerate(counts) if n < MIN_PER_CLASS]
    if small:
        raise LayoutError(where, f"class {small[0]!r} has {counts[index[small[0]]]} example; each class needs at least "
                                 f"{MIN_PER_CLASS}")  # fmt: skip
    return labels, names


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
