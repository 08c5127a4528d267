"""The push parser: any split of the body into chunks gives the same parts and bytes."""

from __future__ import annotations

import os

import pytest

from models_app.multipart import MEMMEM_FROM, MultipartParser, boundary_of, find
from models_app.uploads import UploadError
from tests.models_app.multipart_body import BOUNDARY, CONTENT_TYPE, multipart


def parse(body: bytes, chunk: int) -> list[tuple[dict, bytes]]:
    parts: list = []
    parser = MultipartParser(
        BOUNDARY.encode(),
        lambda headers: parts.append([headers, bytearray()]),
        lambda data: parts[-1][1].extend(data),
        lambda: None,
    )
    for start in range(0, len(body), chunk):
        parser.feed(body[start : start + chunk])
    assert parser.done
    return [(h, bytes(d)) for h, d in parts]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 40, 41, 64, 1000, 65536, 10**7])
def test_every_chunking_gives_the_same_parts(chunk):
    # Data that nearly contains the boundary, and CRLFs at the edges, must survive.
    tricky = b"\r\n--" + BOUNDARY[:-1].encode() + b"x\r\n" + os.urandom(3000) + b"\r\n-"
    files = {"a.bin": tricky, "empty.txt": b"", "dir/b.txt": b"hello"}
    parts = parse(multipart(files, message="msg"), chunk)
    assert [data for _, data in parts] == [b"msg", tricky, b"", b"hello"]
    assert 'filename="dir/b.txt"' in parts[-1][0]["content-disposition"]


def test_content_type_checks():
    assert boundary_of(CONTENT_TYPE) == BOUNDARY.encode()
    assert boundary_of('multipart/form-data; boundary="a b"') == b"a b"
    with pytest.raises(UploadError) as excinfo:
        boundary_of("application/json")
    assert excinfo.value.status_code == 415
    with pytest.raises(UploadError):
        boundary_of("multipart/form-data")


def test_truncated_body_is_not_done():
    body = multipart({"a.txt": b"abc"})
    parser = MultipartParser(BOUNDARY.encode(), lambda h: None, lambda d: None, lambda: None)
    parser.feed(body[:-10])
    assert not parser.done


@pytest.mark.parametrize("size", [100, MEMMEM_FROM - 1, MEMMEM_FROM, 3 * MEMMEM_FROM + 7])
def test_boundary_search_finds_what_bytes_find_finds(size):
    """``find`` takes libc's memmem for large buffers: same answer as ``bytes.find`` everywhere."""
    needle = b"\r\n--" + BOUNDARY.encode()
    data = os.urandom(size)
    assert find(data, needle) == -1
    for at in (0, 1, size // 2, size - len(needle), size):
        haystack = data[:at] + needle + data[at:] + needle  # the first of two is the answer
        assert find(haystack, needle) == haystack.find(needle) == at
    assert find(memoryview(data).tobytes(), needle[:-1] + b"!") == -1
