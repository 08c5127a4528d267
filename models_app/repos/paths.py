"""The rule for file paths inside a repo."""

from __future__ import annotations

import unicodedata

MAX_PATH_BYTES = 255


class PathError(ValueError):
    """A path the hub refuses; the message says why, for the uploader."""


def normalize_path(raw: str) -> str:
    """Return the canonical (NFC) form of a repo path, or raise PathError.

    Refused: empty or absolute paths, ``..`` or ``.`` or empty segments,
    backslashes, NUL or control characters, invisible formatting characters
    (bidi controls, BOM, zero-width), names that start or end with whitespace
    or are only whitespace, ``.git`` segments, paths over 255 bytes in UTF-8.
    """
    if not isinstance(raw, str) or raw == "":
        raise PathError("A file path is empty.")
    path = unicodedata.normalize("NFC", raw)
    # First, so that the messages below quote at most MAX_PATH_BYTES of what was sent.
    if len(path.encode("utf-8", errors="replace")) > MAX_PATH_BYTES:
        raise PathError(f"{path[:40]!r}…: paths are limited to {MAX_PATH_BYTES} bytes.")
    for ch in path:
        _check_character(path, ch)
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
        if segment != segment.strip():
            # "model.bin " and " " look like "model.bin" and nothing: names that spoof others.
            raise PathError(
                f"{path!r}: file and folder names may not start or end with whitespace, nor be only whitespace."
            )
    return path


# Unicode categories no file name needs: Cc control characters (NUL, newline, C1), Cf invisible
# formatting (bidi overrides U+202A-U+202E and isolates U+2066-U+2069, marks U+200E/U+200F,
# zero-width U+200B-U+200D, BOM U+FEFF), Cs lone surrogates (not encodable as UTF-8), and the
# line/paragraph separators. Bidi controls make a name display as another ("gpj.exe" shown as
# "exe.jpg"); invisible ones make two different names look the same.
_REFUSED_CATEGORIES = {
    "Cc": "control characters (including NUL) are not allowed in paths",
    "Cf": "invisible formatting characters (bidi controls, BOM, zero-width) are not allowed in paths",
    "Cs": "unpaired surrogates are not allowed in paths",
    "Zl": "line separators are not allowed in paths",
    "Zp": "paragraph separators are not allowed in paths",
}


def _check_character(path: str, ch: str) -> None:
    reason = _REFUSED_CATEGORIES.get(unicodedata.category(ch))
    if reason is not None:
        raise PathError(f"{path!r}: {reason} (found U+{ord(ch):04X}).")
