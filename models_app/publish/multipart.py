"""The upload form: a ``multipart/form-data`` body pushed through python-multipart into ``Ingest``.

Bytes are pushed in whatever chunks the server delivers; python-multipart
(the streaming parser Starlette uses) finds the boundaries, and file data goes
straight to ``StagedFile.write`` as it is found, so a limit is hit on the
chunk that crosses it and nothing is buffered beyond one chunk.

Every file part's *filename* is its path in the repo
(``-F "file=@vocab.txt;filename=tokenizer/vocab.txt"``); text fields are
``message``, ``description`` and ``sha256:<path>`` (the file's expected
digest; checked while streaming when it comes before the file, else before
the commit).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from models_app.publish.uploads import Ingest, StagedFile, UploadError

MAX_HEADER_BYTES = 16 * 1024
MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 2000
# Multipart framing per part that a Content-Length may hold besides file bytes.
PART_OVERHEAD = MAX_HEADER_BYTES


def boundary_of(content_type: str) -> bytes:
    """The boundary of a ``multipart/form-data`` Content-Type, or UploadError (400/415)."""
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        raise UploadError("Send the files as multipart/form-data.", status_code=415)
    boundary = params.get(b"boundary", b"")
    if not 1 <= len(boundary) <= 70:  # RFC 2046's limits
        raise UploadError("The multipart Content-Type has no boundary.", status_code=400)
    return boundary


class UploadForm:
    """Feeds the files of one multipart upload into an ``Ingest``; collects its text fields."""

    def __init__(self, ingest: Ingest, content_type: str, *, before_files: Callable[[dict], None] | None = None):
        """``before_files(fields)`` runs once, when the first file part starts (the website's CSRF check)."""
        self.ingest = ingest
        self._before_files = before_files
        self.fields: dict[str, str] = {}
        self.digests: dict[str, str] = {}
        self._done = False
        self._staged: StagedFile | None = None
        self._field: tuple[str, bytearray] | None = None
        self._headers: dict[bytes, bytes] = {}
        self._header: list[bytearray] = [bytearray(), bytearray()]
        self._parser = MultipartParser(
            boundary_of(content_type),
            {
                "on_header_field": lambda data, start, end: self._header[0].extend(data[start:end]),
                "on_header_value": lambda data, start, end: self._header[1].extend(data[start:end]),
                "on_header_end": self._header_end,
                "on_headers_finished": self._part,
                "on_part_data": self._data,
                "on_part_end": self._end,
                "on_end": self._finished,
            },
            max_header_size=MAX_HEADER_BYTES,
        )

    def feed(self, chunk: bytes | memoryview) -> None:
        try:
            self._parser.write(chunk if type(chunk) is bytes else bytes(chunk))
        except MultipartParseError as exc:
            if "header" in str(exc).lower() and "exceeded" in str(exc).lower():  # max_header_size or _count
                raise UploadError("A multipart part's headers are too long.", status_code=400) from None
            raise UploadError(f"Malformed multipart body ({exc}).", status_code=400) from None

    def close(self) -> None:
        """The body ended: check it was complete and every announced digest matched."""
        if not self._done:
            raise UploadError("The multipart body ended before its closing boundary.", status_code=400)
        if not self.ingest.files:
            raise UploadError("The upload holds no files.", status_code=400)
        for path, expected in self.digests.items():
            blob = self.ingest.files.get(path)
            if blob is None:
                raise UploadError(f"sha256:{path} names no file of this upload.", status_code=400)
            if blob.sha256 != expected.lower():
                raise UploadError(
                    f"{path}: sha256 mismatch (sent {expected}, received {blob.sha256}).", status_code=422
                )

    def abort(self) -> None:
        self.ingest.abort()

    def _header_end(self) -> None:
        name, value = self._header
        self._headers[bytes(name).strip().lower()] = bytes(value).strip()
        self._header = [bytearray(), bytearray()]

    def _part(self) -> None:
        headers, self._headers = self._headers, {}
        # Through latin-1 and back (the parser's own convention), so a UTF-8 filename keeps its bytes.
        kind, params = parse_options_header(headers.get(b"content-disposition", b"").decode("latin-1"))
        if kind != b"form-data" or b"name" not in params:
            raise UploadError("Each multipart part needs Content-Disposition: form-data; name=...", status_code=400)
        name = params[b"name"].decode("utf-8", "replace")
        if b"filename" in params:
            if self._before_files is not None:
                check, self._before_files = self._before_files, None
                check(self.fields)
            # Browsers escape '"' and newlines in filenames as %22, %0D, %0A (WHATWG); undo only those.
            raw = params[b"filename"].decode("utf-8", "replace")
            path = re.sub(r"%(22|0D|0A)", lambda m: chr(int(m.group(1), 16)), raw, flags=re.I)
            self._staged = self.ingest.open_file(path, sha256=self.digests.get(_normalized(path)))
            return
        if len(self.fields) + len(self.digests) >= MAX_FIELDS:
            raise UploadError("Too many form fields.", status_code=400)
        self._field = (name, bytearray())

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._staged is not None:
            # A view of the fed bytes (immutable), not a copy; python-multipart's own small
            # buffers (a boundary split across chunks) are copied.
            self._staged.write(memoryview(data)[start:end] if type(data) is bytes else bytes(data[start:end]))
            return
        name, value = self._field
        if len(value) + end - start > MAX_FIELD_BYTES:
            raise UploadError(f"The form field '{name}' is too long.", status_code=400)
        value += data[start:end]

    def _end(self) -> None:
        if self._staged is not None:
            staged, self._staged = self._staged, None
            staged.finish()
            return
        name, value = self._field
        self._field = None
        text = value.decode("utf-8", errors="replace")
        if "\x00" in text:  # PostgreSQL text cannot hold NUL (see hub/jsonbody.py)
            raise UploadError(f"The form field {name[:40]!r} holds a NUL character.", status_code=400)
        if name.startswith("sha256:"):
            digest = text.strip()
            if not re.fullmatch(r"[0-9a-fA-F]{64}", digest):
                raise UploadError(f"{name}: sha256 must be 64 hex characters.", status_code=400)
            self.digests[_normalized(name[len("sha256:") :])] = digest
        else:
            self.fields[name] = text

    def _finished(self) -> None:
        self._done = True


def _normalized(path: str) -> str:
    from models_app.repos.paths import PathError, normalize_path

    try:
        return normalize_path(path)
    except PathError as exc:
        raise UploadError(str(exc), status_code=400) from None
