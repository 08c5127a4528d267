"""The upload form: any split of the body into chunks gives the same files, fields and refusals."""

from __future__ import annotations

import hashlib
import os

import pytest

from models_app.models import Blob
from models_app.publish.multipart import MAX_FIELD_BYTES, UploadForm, boundary_of
from models_app.publish.uploads import Ingest, UploadError
from models_app.repos.rules import repo_create
from tests.initial_commit import uploaded_blobs
from tests.models_app.multipart_body import BOUNDARY, CONTENT_TYPE, multipart

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("alice", password="pw")


def feed(owner, body: bytes, chunk: int, name: str = "m") -> UploadForm:
    form = UploadForm(Ingest(repo_create(owner, name)), CONTENT_TYPE)
    try:
        for start in range(0, len(body), chunk):
            form.feed(body[start : start + chunk])
        form.close()
    except BaseException:
        form.abort()
        raise
    return form


def stored(blob: Blob, isolated_store) -> bytes:
    return (isolated_store.BLOB_DIR / blob.storage_key).read_bytes()


@pytest.mark.parametrize("chunk", [1, 3, 7, 40, 41, 1000, 65536, 10**7])
def test_every_chunking_gives_the_same_files(owner, isolated_store, chunk):
    # Data that nearly contains the boundary, and CRLFs at the edges, must survive.
    tricky = b"\r\n--" + BOUNDARY[:-1].encode() + b"x\r\n" + os.urandom(3000) + b"\r\n-"
    big = os.urandom(200_000) + b"\r\n--" + BOUNDARY[:5].encode()  # ends in half a boundary
    files = {"a.bin": tricky, "empty.txt": b"", "dir/b.txt": b"hello", "big.bin": big}
    form = feed(owner, multipart(files, message="msg"), chunk, f"m{chunk}")
    assert form.fields == {"message": "msg"}
    assert sorted(form.ingest.files) == sorted(files)
    for path, data in files.items():
        blob = form.ingest.files[path]
        assert blob.sha256 == hashlib.sha256(data).hexdigest()
        assert stored(blob, isolated_store) == data


def test_a_digest_sent_before_the_file_is_checked(owner):
    body = multipart({"a.txt": b"abc"}, **{"sha256:a.txt": hashlib.sha256(b"abc").hexdigest()})
    assert feed(owner, body, 5).ingest.files["a.txt"].size == 3
    with pytest.raises(UploadError) as excinfo:
        feed(owner, multipart({"a.txt": b"abc"}, **{"sha256:a.txt": "0" * 64}), 5, "bad")
    assert excinfo.value.status_code == 422 and uploaded_blobs().count() == 1


def test_quoted_and_utf8_filenames_are_repo_paths(owner):
    form = feed(owner, multipart({'we"ird/ü.txt': b"x"}), 9)
    assert list(form.ingest.files) == ['we"ird/ü.txt']


def test_content_type_checks():
    assert boundary_of(CONTENT_TYPE) == BOUNDARY.encode()
    assert boundary_of('multipart/form-data; boundary="a b"') == b"a b"
    with pytest.raises(UploadError) as excinfo:
        boundary_of("application/json")
    assert excinfo.value.status_code == 415
    with pytest.raises(UploadError) as excinfo:
        boundary_of("multipart/form-data")
    assert excinfo.value.status_code == 400


@pytest.mark.parametrize(
    "body, message",
    [
        (multipart({"a.txt": b"abc"})[:-10], "ended before its closing boundary"),
        (multipart({}, message="x" * (MAX_FIELD_BYTES + 1)), "too long"),
        (b"garbage" + multipart({"a.txt": b"abc"}), "Malformed multipart body"),
        (multipart({"a.txt": b"abc"}).replace(b"form-data; ", b"attachment; "), "Content-Disposition"),
    ],
)
def test_bad_bodies_are_refused_and_leave_nothing(owner, isolated_store, body, message):
    with pytest.raises(UploadError) as excinfo:
        feed(owner, body, 1000)
    assert excinfo.value.status_code == 400 and message in excinfo.value.message
    assert uploaded_blobs().count() == 0
    assert list((isolated_store.UPLOAD_TMP_DIR).glob("*.part")) == []
