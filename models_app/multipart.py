"""A push-style ``multipart/form-data`` parser and the upload form it feeds into ``Ingest``.

Bytes are pushed in whatever chunks the network delivers; file data goes
straight to ``StagedFile.write`` as it is found, so a limit is hit on the
chunk that crosses it and nothing is buffered beyond one chunk plus the
boundary length. Boundaries are found with ``bytes.find`` (C speed): the
parser costs far less than hashing the same bytes.

The form (``UploadForm``): every file part's *filename* is its path in the
repo (``-F "file=@vocab.txt;filename=tokenizer/vocab.txt"``); text fields are
``message``, ``description`` and ``sha256:<path>`` (the file's expected
digest; checked while streaming when it comes before the file, else before
the commit).
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Callable
from urllib.parse import unquote

from models_app.diskwrite import address_of, libc_function
from models_app.uploads import Ingest, StagedFile, UploadError

MAX_HEADER_BYTES = 16 * 1024
MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 2000
# Multipart framing per part that a Content-Length may hold besides file bytes.
PART_OVERHEAD = MAX_HEADER_BYTES


_memmem = libc_function("memmem", [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t], ctypes.c_void_p)
MEMMEM_FROM = 64 * 1024  # below this, bytes.find is as fast and costs no foreign call


def find(haystack: bytes | memoryview, needle: bytes) -> int:
    """``haystack.find(needle)`` for bytes or a contiguous memoryview; libc's ``memmem`` for large ones.

    CPython searches long haystacks with the two-way algorithm, about 5 GB/s
    over random bytes here; glibc's memmem skips through them at about 14 GB/s
    (``bench/bench_ingest.py`` profiles), and the boundary search runs over
    every byte of an upload.
    """
    if _memmem is None or len(haystack) < MEMMEM_FROM:
        return (haystack if type(haystack) is bytes else bytes(haystack)).find(needle)
    start = address_of(haystack)  # the haystack's own memory: no copy
    at = _memmem(start, len(haystack), needle, len(needle))
    return -1 if at is None else at - start


def partial_match(data: bytes | memoryview, needle: bytes) -> int:
    """The length of the longest end of ``data`` that is a proper beginning of ``needle`` (0 if none).

    Those bytes may be a boundary split across reads, so the parser holds them
    back; any other bytes with no boundary in them are file data already.
    """
    tail = bytes(data[-(len(needle) - 1) :])
    at = tail.find(needle[:1])
    while at >= 0:
        if needle.startswith(tail[at:]):
            return len(tail) - at
        at = tail.find(needle[:1], at + 1)
    return 0


def boundary_of(content_type: str) -> bytes:
    """The boundary of a ``multipart/form-data`` Content-Type, or UploadError (400/415)."""
    kind, _, params = content_type.partition(";")
    if kind.strip().lower() != "multipart/form-data":
        raise UploadError("Send the files as multipart/form-data.", status_code=415)
    match = re.search(r'boundary=(?:"([^"]{1,70})"|([^;\s]{1,70}))', params)
    if match is None:
        raise UploadError("The multipart Content-Type has no boundary.", status_code=400)
    return (match.group(1) or match.group(2)).encode("latin-1")


def _header_params(value: str) -> tuple[str, dict[str, str]]:
    kind, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in re.finditer(r'\s*([\w*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))\s*;?', rest):
        key = match.group(1).lower()
        raw = match.group(2) if match.group(2) is not None else (match.group(3) or "").strip()
        params[key] = raw.replace('\\"', '"').replace("\\\\", "\\") if match.group(2) is not None else raw
    if "filename*" in params:  # RFC 5987: UTF-8''percent-encoded
        _, _, encoded = params["filename*"].partition("''")
        params["filename"] = unquote(encoded)
    return kind.strip().lower(), params


class MultipartParser:
    """Calls ``on_part(headers)``, ``on_data(bytes)`` and ``on_part_end()`` as the body is fed.

    Fed ``bytes`` or read-only memoryviews; file data is handed on as views of
    what was fed, uncopied (but for a few bytes around a boundary split across
    feeds). ``data_start`` is the body offset of the current part's first byte.
    """

    def __init__(
        self,
        boundary: bytes,
        on_part: Callable[[dict[str, str]], None],
        on_data: Callable[[memoryview], None],
        on_part_end: Callable[[], None],
    ):
        self._first = b"--" + boundary
        self._delim = b"\r\n--" + boundary
        self._on_part, self._on_data, self._on_part_end = on_part, on_data, on_part_end
        self._buf = b""
        self._state = "preamble"  # -> after_boundary -> headers -> data -> after_boundary ... -> done
        self._fed = 0  # body bytes fed so far
        self.data_start = 0

    @property
    def done(self) -> bool:
        return self._state == "done"

    def feed(self, chunk: bytes | memoryview) -> None:
        self._fed += len(chunk)
        if self._state != "data" and type(chunk) is not bytes:
            chunk = bytes(chunk)  # framing is parsed as bytes; only file data stays a view
        if self._state == "data" and self._buf and len(chunk) >= len(self._delim):
            # Inside file data the buffer is only a short tail: look for a boundary that starts
            # in it, and if there is none, pass the tail on and keep the big chunk uncopied.
            probe = self._buf + bytes(chunk[: len(self._delim) - 1])
            if probe.find(self._delim) < 0:
                self._on_data(memoryview(self._buf))
                self._buf = b""
        self._buf = self._buf + bytes(chunk) if self._buf else chunk
        while True:
            if self._state == "preamble":
                at = self._buf.find(self._first)
                if at < 0:
                    self._buf = self._buf[-len(self._first) :]
                    return
                self._buf, self._state = self._buf[at + len(self._first) :], "after_boundary"
            elif self._state == "after_boundary":
                if len(self._buf) < 2:
                    return
                if self._buf[:2] == b"--":
                    self._buf, self._state = b"", "done"
                    return
                if self._buf[:2] != b"\r\n":
                    raise UploadError("Malformed multipart body (bad boundary line).", status_code=400)
                self._buf, self._state = self._buf[2:], "headers"
            elif self._state == "headers":
                end = self._buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(self._buf) > MAX_HEADER_BYTES:
                        raise UploadError("A multipart part's headers are too long.", status_code=400)
                    return
                self._on_part(self._parse_headers(self._buf[:end]))
                self._buf, self._state = self._buf[end + 4 :], "data"
                self.data_start = self._fed - len(self._buf)
            elif self._state == "data":
                at = find(self._buf, self._delim)
                if at < 0:
                    # Keep only what could be the start of a boundary split across chunks.
                    keep = partial_match(self._buf, self._delim)
                    if len(self._buf) > keep:
                        self._on_data(memoryview(self._buf)[: len(self._buf) - keep])
                    self._buf = bytes(self._buf[len(self._buf) - keep :]) if keep else b""
                    return
                if at:
                    self._on_data(memoryview(self._buf)[:at])
                self._on_part_end()
                self._buf, self._state = bytes(self._buf[at + len(self._delim) :]), "after_boundary"
            else:  # done: the epilogue is ignored
                self._buf = b""
                return

    @staticmethod
    def _parse_headers(raw: bytes) -> dict[str, str]:
        headers = {}
        for line in raw.decode("utf-8", errors="replace").split("\r\n"):
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        return headers


class UploadForm:
    """Feeds the files of one multipart upload into an ``Ingest``; collects its text fields."""

    def __init__(self, ingest: Ingest, content_type: str, *, before_files: Callable[[dict], None] | None = None):
        """``before_files(fields)`` runs once, when the first file part starts (the website's CSRF check)."""
        self.ingest = ingest
        self._before_files = before_files
        self.fields: dict[str, str] = {}
        self.digests: dict[str, str] = {}
        self._parser = MultipartParser(boundary_of(content_type), self._part, self._data, self._end)
        self._staged: StagedFile | None = None
        self._field: tuple[str, bytearray] | None = None

    def feed(self, chunk: bytes | memoryview) -> None:
        self._parser.feed(chunk)

    def anchor(self) -> int:
        """The body offset of the first byte of the file being received (streaming.pump lines it up)."""
        return self._parser.data_start

    def close(self) -> None:
        """The body ended: check it was complete and every announced digest matched."""
        if not self._parser.done:
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

    def _part(self, headers: dict[str, str]) -> None:
        kind, params = _header_params(headers.get("content-disposition", ""))
        if kind != "form-data" or "name" not in params:
            raise UploadError("Each multipart part needs Content-Disposition: form-data; name=...", status_code=400)
        if "filename" in params:
            if self._before_files is not None:
                check, self._before_files = self._before_files, None
                check(self.fields)
            # Browsers escape '"' and newlines in filenames as %22, %0D, %0A (WHATWG); undo only those.
            path = re.sub(r"%(22|0D|0A)", lambda m: chr(int(m.group(1), 16)), params["filename"], flags=re.I)
            self._staged = self.ingest.open_file(path, sha256=self.digests.get(_normalized(path)))
            return
        if len(self.fields) + len(self.digests) >= MAX_FIELDS:
            raise UploadError("Too many form fields.", status_code=400)
        self._field = (params["name"], bytearray())

    def _data(self, data: memoryview) -> None:
        if self._staged is not None:
            self._staged.write(data)
            return
        name, value = self._field
        if len(value) + len(data) > MAX_FIELD_BYTES:
            raise UploadError(f"The form field '{name}' is too long.", status_code=400)
        value += data

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


def _normalized(path: str) -> str:
    from models_app.paths import PathError, normalize_path

    try:
        return normalize_path(path)
    except PathError as exc:
        raise UploadError(str(exc), status_code=400) from None
