"""The file preview of the Files tab: a text file's contents (card, config, tokenizer), or why not."""

from __future__ import annotations

from dataclasses import dataclass

from models_app.models import RepoFile, Revision
from models_app.storage import get_store

# Enough for any card, config or tokenizer config; a larger file (a tokenizer.json of a big
# vocabulary) is a download, not a page: rendering megabytes of text helps nobody on a phone.
PREVIEW_MAX_BYTES = 512 * 1024


@dataclass(frozen=True)
class Preview:
    path: str
    size: int
    sha256: str
    text: str | None  # None: not shown, ``reason`` says why
    reason: str = ""


def file_preview(revision: Revision, path: str) -> Preview | None:
    """The preview of ``path`` in ``revision``; None when the revision has no such file."""
    row = RepoFile.objects.filter(revision=revision, path=path).select_related("blob").first()
    if row is None:
        return None
    blob = row.blob
    if blob.size > PREVIEW_MAX_BYTES:
        return Preview(path, blob.size, blob.sha256, None, "This file is too large to preview.")
    with get_store().open(blob.storage_key) as handle:
        data = handle.read(PREVIEW_MAX_BYTES + 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        return Preview(path, blob.size, blob.sha256, None, "This is a binary file.")
    return Preview(path, blob.size, blob.sha256, text)
