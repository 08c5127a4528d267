"""The reference dataset registry: every dataset's limits, split, labels and documented hash."""

from __future__ import annotations

import re

import numpy as np
import pytest

from models_app.validation import datasets
from models_app.validation.datasets import DATASETS, MAX_CHARS, MAX_TEST, MAX_TRAIN

README = datasets.DATA_DIR / "README.md"
TEXT = sorted(name for name, info in DATASETS.items() if info.modality == "text")
IMAGES = sorted(name for name, info in DATASETS.items() if info.modality == "image")


def documented_hashes() -> dict[str, str]:
    # data/README.md writes each as: **Dataset hash** (`sha256("name")`): `<64 hex>`.
    pattern = re.compile(r'`sha256\("([\w.-]+)"\)`\):\s*`([0-9a-f]{64})`')
    return dict(pattern.findall(README.read_text()))


def test_the_suite_has_three_tasks_of_each_modality():
    assert len(TEXT) >= 3
    assert len(IMAGES) >= 3
    for name, info in DATASETS.items():
        assert info.name == name
        assert info.title and info.description and info.source and info.license
        assert len(info.labels) >= 2 and len(set(info.labels)) == len(info.labels)
        assert 0 < info.train_size <= MAX_TRAIN and 0 < info.test_size <= MAX_TEST


@pytest.mark.parametrize("name", TEXT)
def test_text_dataset(name):
    info = DATASETS[name]
    splits = datasets.load_text(name)
    assert set(splits) == {"train", "test"}
    (train_x, train_y), (test_x, test_y) = splits["train"], splits["test"]
    assert (len(train_x), len(train_y)) == (info.train_size, info.train_size)
    assert (len(test_x), len(test_y)) == (info.test_size, info.test_size)
    for texts, labels in (splits["train"], splits["test"]):
        assert all(isinstance(t, str) and t.strip() and len(t) <= MAX_CHARS for t in texts)
        assert all(type(y) is int and 0 <= y < len(info.labels) for y in labels)
    assert set(train_y) == set(range(len(info.labels))), "every class is in train"
    assert not set(train_x) & set(test_x), "no text in both splits"
    assert len(set(train_x)) == len(train_x) and len(set(test_x)) == len(test_x)
    # Balanced as far as the classes allow: no class has more than its share plus one
    # unless a smaller class ran out.
    counts = np.bincount(train_y, minlength=len(info.labels))
    assert counts.max() - counts.min() <= 1 or counts.min() < info.train_size // len(info.labels)


@pytest.mark.parametrize("name", IMAGES)
def test_image_dataset(name):
    info = DATASETS[name]
    x_train, y_train, x_test, y_test = datasets.load_images(name)
    assert x_train.shape[0] == y_train.shape[0] == info.train_size
    assert x_test.shape[0] == y_test.shape[0] == info.test_size
    for x, y in ((x_train, y_train), (x_test, y_test)):
        assert x.dtype == np.float32 and x.ndim == 3
        assert 0.0 <= x.min() and x.max() <= 1.0
        assert y.dtype == np.int64 and y.ndim == 1
        assert 0 <= y.min() and y.max() < len(info.labels)
    assert x_train.shape[1:] == x_test.shape[1:]
    assert set(y_train.tolist()) == set(range(len(info.labels))), "every class is in train"
    train = {row.tobytes() for row in x_train}
    assert not train & {row.tobytes() for row in x_test}, "no image in both splits"


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_hash_is_stable_and_documented(name):
    first = datasets.sha256(name)
    datasets.sha256.cache_clear()
    assert datasets.sha256(name) == first
    assert documented_hashes().get(name) == first, f"data/README.md documents another hash for {name}"


def test_every_documented_hash_is_a_registered_dataset():
    assert set(documented_hashes()) == set(DATASETS)


def test_loaders_hand_out_copies():
    name = IMAGES[0]
    x_train = datasets.load_images(name)[0]
    x_train[:] = 0
    assert datasets.load_images(name)[0].max() > 0
    texts = datasets.load_text(TEXT[0])["train"][0]
    texts.clear()
    assert datasets.load_text(TEXT[0])["train"][0]


def test_wrong_modality_or_name_is_refused():
    with pytest.raises(ValueError):
        datasets.load_images(TEXT[0])
    with pytest.raises(ValueError):
        datasets.load_text(IMAGES[0])
    with pytest.raises(KeyError):
        datasets.sha256("no-such-dataset")


def test_mnist_pretraining_is_disjoint_from_the_task():
    x_pre, y_pre = datasets.mnist_pretraining()
    assert x_pre.shape == (3500, 28, 28) and x_pre.dtype == np.float32 and y_pre.dtype == np.int64
    assert np.bincount(y_pre).tolist() == [350] * 10
    x_train, _, x_test, _ = datasets.load_images("mnist")
    task = {row.tobytes() for row in np.concatenate([x_train, x_test])}
    assert not task & {row.tobytes() for row in x_pre}


def test_imdb_is_the_first_balanced_thousand_of_the_committed_file():
    whole = datasets.load_imdb_file()
    loaded = datasets.load_text("imdb")
    assert loaded["train"][1].count(0) == loaded["train"][1].count(1) == 500
    first = next(i for i, y in enumerate(whole["train"][1]) if y == loaded["train"][1][0])
    assert loaded["train"][0][0] == datasets.clip(whole["train"][0][first])
    assert loaded["test"][1] == whole["test"][1]


def test_clip_cuts_at_a_word_boundary():
    assert datasets.clip("a  b\n c") == "a b c"
    assert datasets.clip("word " * 300) == ("word " * 200).strip()
    assert len(datasets.clip("x" * 2000)) == MAX_CHARS


def test_balanced_split_is_disjoint_balanced_and_seeded():
    labels = [0] * 30 + [1] * 10 + [2] * 60
    train, test = datasets.balanced_split(labels, 40, 15, seed=7)
    assert not set(train) & set(test)
    assert sorted(labels[i] for i in test).count(1) == 5
    assert [labels[i] for i in train].count(1) == 5  # class 1 ran out; the others fill in
    assert datasets.balanced_split(labels, 40, 15, seed=7) == (train, test)
