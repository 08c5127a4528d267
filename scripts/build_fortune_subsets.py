"""Rebuild models_app/validation/data/fortune_topics.csv.gz and fortune_languages.csv.gz byte for byte.

Both come from Debian's fortune cookie packages: short quotations, jokes and
aphorisms, one per ``%``-separated entry, filed by their collectors in one
file per topic (English ``fortunes``) or shipped per language. Get the packages
without installing them (Debian 13 "trixie" versions):

    apt-get update && cd /tmp/fortunes && apt-get download fortunes fortunes-de \\
        fortunes-es fortunes-it fortunes-br fortunes-pl fortunes-cs
    python scripts/build_fortune_subsets.py /tmp/fortunes/*.deb

- fortune-topics: which file of the English ``fortunes`` package an entry is
  filed in, 5 classes (computers, men-women, politics, science, work).
- fortune-languages: the language of an entry, 6 classes (Czech, German,
  Italian, Polish, Portuguese, Spanish), from all of each package's files
  except the offensive (``off/``) section and Slovak ``klasik-sk``; entries with
  two or more of the English words the/and/you/is/of are dropped (a few
  packages quote English originals).

Entries are whitespace-collapsed and cut at a word boundary to 1,000
characters; entries under 20 characters, and any text that occurs under two
labels, are dropped; then a seeded balanced split gives 1,000 train and 500
test. ``--check`` rebuilds in memory and compares with the committed files.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _datafile import check_source, csv_gz_content, deb_files, finish, gzip_bytes  # noqa: E402

from models_app.validation import datasets  # noqa: E402

FORTUNES = "usr/share/games/fortunes/"
SEED = 20261207
MIN_CHARS = 20
# sha256 of each .deb as downloaded from Debian trixie (main, all).
SOURCES = {
    "fortunes": ("1:1.99.1-7.3", "41d0551dc0ff52f875a2ecef7c39da2f672ab468c37e170119f7e0245a9d63c5"),
    "fortunes-cs": ("2.0.9-1.1", "5a38a15bcd58c6a2f777a1f2db8d51da901bc3d0147b2db3597c8a1b78acb447"),
    "fortunes-de": ("0.35-1", "03fe7a7912935bd3d4e02e38d79ef32a289097f8718d4488c409595abce067a0"),
    "fortunes-it": ("1.99-4.1", "675df6ecb00c3b67d06b39ab223ff17f1ef1d0ec82a7e40f989356a2eb61a97e"),
    "fortunes-pl": ("0.0.20130525-3", "39602aece2081a67c9e95ff7f6e8b0b8fc2cce971e920a31d04133d4ac007ad0"),
    "fortunes-br": ("20220821", "0a181b5fdf4f9d83dd519c4a50af2e68d88c85d27ab32f665c72e5fc67331a4c"),
    "fortunes-es": ("1.36", "54636edc1a4384093b68d1666c7e702ce42d1fcc8b5ab402d9646c328dcca899"),
}
TOPICS = ("computers", "men-women", "politics", "science", "work")  # label id = index
LANGUAGES = ("fortunes-cs", "fortunes-de", "fortunes-it", "fortunes-pl", "fortunes-br", "fortunes-es")
ENGLISH = re.compile(r"\b(the|and|you|is|of)\b", re.IGNORECASE)


def entries(data: bytes) -> list[str]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:  # a few older files are Latin-1
        text = data.decode("latin-1")
    out = []
    for entry in re.split(r"^%$", text.replace("\r\n", "\n"), flags=re.MULTILINE):
        entry = datasets.clip(entry)
        if len(entry) >= MIN_CHARS:
            out.append(entry)
    return out


def language_files(files: dict[str, bytes]) -> list[bytes]:
    out, seen = [], set()
    for path in sorted(files):
        name = path.rsplit("/", 1)[-1]
        if not path.startswith(FORTUNES) or "/off/" in path or name.endswith((".dat", ".u8")) or "-sk" in name:
            continue
        digest = hashlib.sha256(files[path]).digest()
        if digest not in seen:  # cs/ and cz/, it/ and the top level, hold the same files
            seen.add(digest)
            out.append(files[path])
    return out


def build(by_label: list[list[str]]) -> bytes:
    owners: dict[str, set[int]] = {}
    for label, texts in enumerate(by_label):
        for text in texts:
            owners.setdefault(text, set()).add(label)
    texts, labels = [], []
    for text, owner in sorted(owners.items()):
        if len(owner) == 1:
            texts.append(text)
            labels.append(next(iter(owner)))
    train, test = datasets.balanced_split(labels, datasets.MAX_TRAIN, datasets.MAX_TEST, SEED)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["split", "label", "text"])
    writer.writerows(("train", labels[i], texts[i]) for i in train)
    writer.writerows(("test", labels[i], texts[i]) for i in test)
    return out.getvalue().encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("debs", type=Path, nargs="+", help="the fortunes*.deb files named above")
    parser.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    args = parser.parse_args()
    packages = {}
    for deb in args.debs:
        package = deb.name.split("_", 1)[0]
        if package in SOURCES:
            check_source(deb.read_bytes(), SOURCES[package][1], deb.name)
            packages[package] = deb_files(deb)
    missing = set(SOURCES) - set(packages)
    if missing:
        raise SystemExit(f"missing packages: {', '.join(sorted(missing))}")

    topics = [entries(packages["fortunes"][FORTUNES + topic]) for topic in TOPICS]
    languages = [
        [e for data in language_files(packages[p]) for e in entries(data) if len(ENGLISH.findall(e)) < 2]
        for p in LANGUAGES
    ]
    for name, by_label in (("fortune-topics", topics), ("fortune-languages", languages)):
        data = build(by_label)
        out = datasets.DATA_DIR / f"{name.replace('-', '_')}.csv.gz"
        print(f"{name}: csv sha256 {hashlib.sha256(data).hexdigest()}, {[len(t) for t in by_label]} entries per label")
        finish(out, gzip_bytes(data), args.check, csv_gz_content)
    datasets.sha256.cache_clear()
    for name in ("fortune-topics", "fortune-languages"):
        if name in datasets.DATASETS:
            print(f"dataset sha256 ({name}, as loaded) {datasets.sha256(name)}")


if __name__ == "__main__":
    main()
