"""Reading a dataset's labelled examples in the layouts HF datasets uses, and naming what is wrong."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from models_app.finder import layouts
from models_app.finder.layouts import LayoutError, read_dataset


def _read(files: dict[str, bytes]):
    return read_dataset({path: len(data) for path, data in files.items()}, files.__getitem__)


def _png(value: int, size=(8, 8)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", size, color=value).save(buffer, format="PNG")
    return buffer.getvalue()


def test_csv_with_text_and_label_and_its_splits():
    data = _read(
        {
            "train.csv": b"text,label\ngreat film,pos\nawful film,neg\nloved it,pos\nhated it,neg\n",
            "test.csv": b"text,label\nfine,pos\nbad,neg\n",
            "README.md": b"# card",
        }
    )
    assert data.modality == "text" and len(data) == 6
    assert data.label_names == ["neg", "pos"]
    assert data.examples[:2] == ["fine", "bad"] and data.labels[:2].tolist() == [1, 0]  # test.csv sorts first
    assert data.splits == ["test", "test", "train", "train", "train", "train"]
    assert len(data.sha256()) == 64


def test_jsonl_with_columns_named_in_the_card_and_numeric_labels_in_order():
    rows = [{"review": f"text {i}", "stars": [10, 2, 1][i % 3]} for i in range(9)]
    body = "\n".join(json.dumps(r) for r in rows).encode()
    data = read_dataset({"data.jsonl": len(body)}, {"data.jsonl": body}.__getitem__,
                        {"text_column": "review", "label_column": "stars"})  # fmt: skip
    assert data.label_names == ["1", "2", "10"]
    assert data.labels[:3].tolist() == [2, 1, 0]
    hf_card = {"train-eval-index": [{"col_mapping": {"review": "text", "stars": "target"}}]}
    assert read_dataset({"data.jsonl": len(body)}, {"data.jsonl": body}.__getitem__, hf_card).label_names == [
        "1",
        "2",
        "10",
    ]


def test_imagefolder_reads_grayscale_arrays_labelled_by_folder():
    files = {f"train/{name}/{i}.png": _png(v) for name, v in (("cat", 0), ("dog", 255)) for i in range(3)}
    files["test/cat/x.png"] = _png(10, size=(100, 40))
    data = _read(files)
    assert data.modality == "image" and data.label_names == ["cat", "dog"]
    assert data.examples.shape == (7, layouts.IMAGE_SIZE, layouts.IMAGE_SIZE) and data.examples.dtype == np.float32
    assert data.examples[data.labels == 1].min() == 1.0 and data.examples[data.labels == 0].max() < 0.1
    assert data.splits.count("test") == 1


@pytest.mark.parametrize(
    ("files", "needle"),
    [
        ({"notes.txt": b"hello"}, "no labelled data found"),
        ({"train.csv": b"sentence,label\na,1\nb,2\n"}, "train.csv: no 'text' column (columns: 'sentence', 'label')"),
        ({"train.csv": b"text,label\na,x\n,y\n"}, "train.csv: row 3 has an empty 'text'"),
        ({"train.csv": b"text,label\na,x\nb,x\nc,x\n"}, "only one class ('x')"),
        ({"train.csv": b"text,label\na,x\nb,x\nc,y\n"}, "class 'y' has 1 example; each class needs at least 2"),
        ({"d.jsonl": b'{"text": "a", "label": 1}\nnot json\n'}, "d.jsonl: line 2 is not JSON"),
        ({"train.csv": b"text,label\n\xff\xfe,1\n"}, "train.csv: not UTF-8 text"),
        ({"train/cat/a.png": b"not an image", "train/dog/b.png": b"x"}, "train/cat/a.png: not a readable PNG or JPEG"),
        ({"test/cat/a.png": b"x"}, "needs a train/<class>/ folder"),
    ],
)
def test_a_bad_layout_names_the_file_and_the_problem(files, needle):
    with pytest.raises(LayoutError) as caught:
        _read(files)
    assert needle in str(caught.value)


def test_limits_are_enforced_before_decoding(monkeypatch):
    monkeypatch.setattr(layouts, "MAX_EXAMPLES", 5)
    rows = "text,label\n" + "".join(f"t{i},{i % 2}\n" for i in range(6))
    with pytest.raises(LayoutError, match="more than 5 examples"):
        _read({"train.csv": rows.encode()})
    monkeypatch.setattr(layouts, "MAX_BYTES", 10)
    with pytest.raises(LayoutError, match="the finder reads at most"):
        _read({"train.csv": b"text,label\na,1\nb,2\n"})


def test_a_decompression_bomb_is_refused_by_its_header(monkeypatch):
    monkeypatch.setattr(layouts, "MAX_IMAGE_PIXELS", 50 * 50)
    with pytest.raises(LayoutError, match="train/cat/big.png: 100x100 pixels"):
        _read({"train/cat/big.png": _png(0, (100, 100)), "train/dog/b.png": _png(0)})
