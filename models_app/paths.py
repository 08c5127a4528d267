"""The rule for file paths inside a repo."""

from __future__ import annotations

import unicodedata

MAX_PATH_BYTES = 255


class PathError(ValueError):
    """A path the hub refuses; the message says why, for the uploader."""


def normalize_path(raw: str) -> str:
    """Return the canonical (NFC) form of a repo path, or raise PathError.

    Refused: empty or absolute paths, ``..`` or ``.`` or empty segments,
    backslashes, NUL or control characters, ``.git`` segments, paths over 255
    bytes in UTF-8.
    """
    if not isinstance(raw, str) or raw == "":
        raise PathError("A file path is empty.")
    path = unicodedata.normalize("NFC", raw)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        raise PathError(f"{path!r}: control characters (including NUL) are not allowed in paths.")
    if "\\" in path:
        raise PathError(f"{path!r}: backslashes are not allowed; use '/' between folders.")
    if path.startswith("/"):
        raise PathError(f"{path!r}: absolute paths are not allowed; paths are relative to the repo root.")
    segments = path.split("/")
    for segment in segments:
        if segment in ("", "."):
            raise PathError(f"{path!r}: empty or '.' folder names are not allowed.")
        if segment == "..":
            raise PathError(f"{path!r}: '..' is not allowed in paths.")
        if segment.lower() == ".git":
            raise PathError(f"{path!r}: '.git' folders are reserved.")
    if len(path.encode("utf-8")) > MAX_PATH_BYTES:
        raise PathError(f"{path[:40]!r}…: paths are limited to {MAX_PATH_BYTES} bytes.")
    return path
