"""The push parser: any split of the body into chunks gives the same parts and bytes."""

from __future__ import annotations

import os

import pytest

from models_app.multipart import MEMMEM_FROM, MultipartParser, boundary_of, find, partial_match
from models_app.uploads import UploadError
from tests.models_app.multipart_body import BOUNDARY, CONTENT_TYPE, multipart


def parse(body: bytes, chunk: int, *, views: bool = False) -> list[tuple[dict, bytes]]:
    """``views``: fed as read-only memoryviews, as the socket reader feeds (streaming.pump)."""
    parts: list = []
    parser = MultipartParser(
        BOUNDARY.encode(),
        lambda headers: parts.append([headers, bytearray()]),
        lambda data: parts[-1][1].extend(data),
        lambda: None,
    )
    whole = memoryview(body).toreadonly()
    for start in range(0, len(body), chunk):
        parser.feed(whole[start : start + chunk] if views else body[start : start + chunk])
    assert parser.done
    return [(h, bytes(d)) for h, d in parts]


@pytest.mark.parametrize("views", [False, True])
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 40, 41, 64, 1000, 65536, 10**7])
def test_every_chunking_gives_the_same_parts(chunk, views):
    # Data that nearly contains the boundary, and CRLFs at the edges, must survive.
    tricky = b"\r\n--" + BOUNDARY[:-1].encode() + b"x\r\n" + os.urandom(3000) + b"\r\n-"
    big = os.urandom(200_000) + b"\r\n--" + BOUNDARY[:5].encode()  # past the memmem threshold, ends half a boundary
    files = {"a.bin": tricky, "empty.txt": b"", "dir/b.txt": b"hello", "big.bin": big}
    parts = parse(multipart(files, message="msg"), chunk, views=views)
    assert [data for _, data in parts] == [b"msg", tricky, b"", b"hello", big]
    assert 'filename="dir/b.txt"' in parts[-2][0]["content-disposition"]


def test_part_data_start_is_its_body_offset():
    body = multipart({"a.bin": b"A" * 5000, "b.bin": b"B" * 7000})
    starts = []
    parser = MultipartParser(
        BOUNDARY.encode(), lambda h: None, lambda d: starts.append(parser.data_start), lambda: None
    )
    for start in range(0, len(body), 999):
        parser.feed(body[start : start + 999])
    assert [body[s] for s in sorted(set(starts))] == [ord("A"), ord("B")]
    assert body[starts[0] - 4 : starts[0]] == b"\r\n\r\n"


def test_partial_match_is_the_longest_end_that_begins_the_boundary():
    needle = b"\r\n--" + BOUNDARY.encode()
    for data in (b"xyz", b"abc\r", b"abc\r\n-", b"\r\r\n--" + BOUNDARY[:3].encode(), b"\r\nx", os.urandom(500)):
        expected = max((k for k in range(1, len(needle)) if data.endswith(needle[:k])), default=0)
        assert partial_match(data, needle) == expected
        assert partial_match(memoryview(data), needle) == expected


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
    assert find(memoryview(data).toreadonly(), needle) == -1
    for at in (0, 1, size // 2, size - len(needle), size):
        haystack = data[:at] + needle + data[at:] + needle  # the first of two is the answer
        assert find(haystack, needle) == haystack.find(needle) == at
        assert find(memoryview(b"xyz" + haystack).toreadonly()[3:], needle) == at  # a view that starts inside
    assert find(memoryview(data).tobytes(), needle[:-1] + b"!") == -1
