"""A dataset revision's labelled examples, and the files the sandboxed child reads them from.

The examples are read from the blob store with ``layouts.read_dataset`` (only
the data files, within its limits) and written for the child as plain JSON
(texts) or an ``.npz`` of arrays (images), never a pickle. The confirmation
split is fixed: the files' own train/test split when they have both, else a
stratified 80/20 split seeded by ``SEED``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from models_app.finder.layouts import Labelled, read_dataset
from models_app.models import RepoFile, Revision
from models_app.storage import get_store

SEED = 1234
TEST_FRACTION = 0.2


def load_revision(revision: Revision) -> Labelled:
    """The labelled examples of a dataset revision, or ``LayoutError`` naming the file and the problem."""
    files = {
        row.path: row
        for row in RepoFile.objects.filter(revision=revision).select_related("blob").order_by("path")
        if not row.path.startswith(".") and row.path != "README.md"
    }
    store = get_store()

    def read(path: str) -> bytes:
        with store.open(files[path].blob.storage_key) as handle:
            return handle.read()

    card = revision.repo.card_meta or {}
    return read_dataset({path: row.blob.size for path, row in files.items()}, read, card)


def features_file(data: Labelled, folder: Path) -> Path:
    """Every example, for feature extraction: ``texts.json`` or ``images.npz``."""
    folder.mkdir(parents=True, exist_ok=True)
    if data.modality == "text":
        path = folder / "texts.json"
        path.write_text(json.dumps({"texts": list(data.examples)}), encoding="utf-8")
    else:
        path = folder / "images.npz"
        np.savez(path, x=np.asarray(data.examples, dtype=np.float32))
    return path


def split(data: Labelled) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, test indices) for the confirmation fine-tune."""
    splits = np.array(data.splits)
    if (splits == "train").any() and (splits == "test").any():
        return np.flatnonzero(splits == "train"), np.flatnonzero(splits == "test")
    rng = np.random.default_rng(SEED)
    train, test = [], []
    for label in range(len(data.label_names)):
        members = rng.permutation(np.flatnonzero(data.labels == label))
        n_test = max(1, int(round(len(members) * TEST_FRACTION)))
        test += members[:n_test].tolist()
        train += members[n_test:].tolist()
    return np.array(sorted(train)), np.array(sorted(test))


def task_file(data: Labelled, folder: Path) -> tuple[Path, int, int]:
    """The seeded train/test split for a fine-tune, as the child's ``data_file``; (path, n_train, n_test)."""
    folder.mkdir(parents=True, exist_ok=True)
    train, test = split(data)
    order = np.random.default_rng(SEED).permutation(len(train))  # shuffled once, so a budget's prefix is mixed
    train = train[order]
    if data.modality == "text":
        path = folder / "task.json"
        texts = list(data.examples)
        body = {
            name: {"texts": [texts[i] for i in idx], "labels": [int(data.labels[i]) for i in idx]}
            for name, idx in (("train", train), ("test", test))
        }
        path.write_text(json.dumps(body), encoding="utf-8")
    else:
        path = folder / "task.npz"
        x = np.asarray(data.examples, dtype=np.float32)
        np.savez(path, x_train=x[train], y_train=data.labels[train], x_test=x[test], y_test=data.labels[test])
    return path, len(train), len(test)
