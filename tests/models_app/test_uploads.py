"""The streaming ingest: hashing, dedup, limits enforced while bytes arrive, nothing left on failure."""

from __future__ import annotations

import hashlib

import pytest

from models_app.publish.uploads import Ingest, Limits, UploadError
from models_app.repos.rules import repo_create
from tests.initial_commit import uploaded_blobs, uploaded_files


def chunks(data: bytes, size: int = 7):
    for start in range(0, len(data), size):
        yield data[start : start + size]


def leftovers(settings) -> list:
    return list(settings.UPLOAD_TMP_DIR.iterdir())


def test_file_is_hashed_and_stored_once_across_repos(owner, other_user, isolated_store):
    weights = b"\x00\x01weights" * 1000
    first = Ingest(repo_create(owner, "tiny-bert")).add("model.safetensors", chunks(weights))
    second = Ingest(repo_create(other_user, "copy")).add("model.safetensors", chunks(weights))
    assert first.sha256 == second.sha256 == hashlib.sha256(weights).hexdigest()
    assert uploaded_blobs().count() == 1
    assert uploaded_files(isolated_store.BLOB_DIR) == [weights]
    assert leftovers(isolated_store) == []


def test_digest_mismatch_is_refused_and_nothing_kept(owner, isolated_store):
    ingest = Ingest(repo_create(owner, "m"))
    with pytest.raises(UploadError) as excinfo:
        ingest.add("config.json", [b"{}"], sha256="0" * 64)
    assert excinfo.value.status_code == 422 and "sha256 mismatch" in excinfo.value.message
    assert uploaded_blobs().count() == 0 and leftovers(isolated_store) == []


def test_file_size_limit_stops_the_stream_before_the_rest_arrives(owner, isolated_store):
    isolated_store.HUB_MAX_FILE_SIZE = 100
    sent = []

    def body():
        for chunk in chunks(b"x" * 10_000, 10):
            sent.append(chunk)
            yield chunk

    with pytest.raises(UploadError) as excinfo:
        Ingest(repo_create(owner, "m")).add("big.bin", body())
    assert excinfo.value.status_code == 413 and "limit per file" in excinfo.value.message
    assert len(sent) <= 11  # refused at the chunk that crossed the limit, not after 10,000 bytes
    assert uploaded_blobs().count() == 0 and leftovers(isolated_store) == []


def test_announced_size_over_the_limit_is_refused_before_reading(owner, isolated_store):
    isolated_store.HUB_MAX_FILE_SIZE = 100
    with pytest.raises(UploadError):
        Ingest(repo_create(owner, "m")).open_file("big.bin", size=101)
    assert leftovers(isolated_store) == []


def test_repo_and_user_quotas_count_across_files(owner, isolated_store):
    repo = repo_create(owner, "m")
    ingest = Ingest(repo, limits=Limits(max_file_size=10**6, max_files=10, repo_remaining=150, user_remaining=10**6))
    ingest.add("a.bin", [b"a" * 100])
    with pytest.raises(UploadError) as excinfo:
        ingest.add("b.bin", chunks(b"b" * 100, 10))
    assert "repository's storage quota" in excinfo.value.message
    ingest = Ingest(repo, limits=Limits(max_file_size=10**6, max_files=10, repo_remaining=10**6, user_remaining=50))
    with pytest.raises(UploadError) as excinfo:
        ingest.add("c.bin", chunks(b"c" * 100, 10))
    assert "your storage quota" in excinfo.value.message


def test_files_per_commit_and_duplicate_paths(owner, isolated_store):
    isolated_store.HUB_MAX_FILES_PER_COMMIT = 2
    ingest = Ingest(repo_create(owner, "m"))
    ingest.add("a.txt", [b"a"])
    with pytest.raises(UploadError) as excinfo:
        ingest.add("a.txt", [b"again"])
    assert "twice" in excinfo.value.message
    ingest.add("b.txt", [b"b"])
    with pytest.raises(UploadError) as excinfo:
        ingest.add("c.txt", [b"c"])
    assert excinfo.value.status_code == 413 and "at most 2 files" in excinfo.value.message


def test_bad_path_is_refused_before_any_byte_is_stored(owner, isolated_store):
    with pytest.raises(UploadError) as excinfo:
        Ingest(repo_create(owner, "m")).add("../escape.txt", [b"x"])
    assert excinfo.value.status_code == 400 and "'..'" in excinfo.value.message
    assert leftovers(isolated_store) == [] and uploaded_blobs().count() == 0


def test_large_files_are_stored_byte_exact_whatever_the_chunking(owner, isolated_store):
    """Big chunks go through the hash and write lanes; odd sizes and tails too."""
    import random

    rnd = random.Random(7)
    sizes = [1, 4095, 300_000, 4 * 1024 * 1024 + 3, 100, 9 * 1024 * 1024, 4096, 5_000_001, 17]
    parts = [rnd.randbytes(size) for size in sizes]
    data = b"".join(parts)
    ingest = Ingest(repo_create(owner, "big"))
    blob = ingest.add("model.safetensors", [memoryview(bytearray(p)) for p in parts])
    assert blob.sha256 == hashlib.sha256(data).hexdigest() and blob.size == len(data)
    assert uploaded_files(isolated_store.BLOB_DIR) == [data]
    assert leftovers(isolated_store) == []


def test_limit_crossed_after_the_lanes_started_keeps_nothing(owner, isolated_store):
    isolated_store.HUB_MAX_FILE_SIZE = 10 * 1024 * 1024
    big = b"\x07" * (3 * 1024 * 1024)
    with pytest.raises(UploadError) as excinfo:
        Ingest(repo_create(owner, "m")).add("big.bin", [big] * 5)
    assert excinfo.value.status_code == 413
    assert uploaded_blobs().count() == 0 and leftovers(isolated_store) == []


@pytest.mark.parametrize("shared", ["repo", "user"])
def test_uploads_side_by_side_cannot_together_pass_a_quota(owner, isolated_store, shared):
    """Each upload is checked while it streams against the usage when it began; the commit checks again,
    so two that ran side by side (each within the quota alone) do not both land."""
    from models_app.repos.quota import QuotaExceeded, repo_usage, user_usage
    from models_app.repos.revisions import manifest_of, revision_create

    # Quotas are set once the repos exist: their initial .gitattributes counts as usage too.
    if shared == "repo":
        first_repo = second_repo = repo_create(owner, "m")
        isolated_store.HUB_REPO_QUOTA = repo_usage(first_repo) + 1000
    else:
        first_repo, second_repo = repo_create(owner, "m1"), repo_create(owner, "m2")
        isolated_store.HUB_USER_QUOTA = user_usage(owner) + 1000
    first, second = Ingest(first_repo), Ingest(second_repo)  # both began before either committed
    first.add("a.bin", [b"a" * 600])
    second.add("b.bin", [b"b" * 600])
    revision_create(first_repo, author=owner, message="a", add=first.files)
    with pytest.raises(QuotaExceeded) as excinfo:  # the commit's check (repos/quota.py), not the upload's
        revision_create(second_repo, author=owner, message="b", add=second.files)
    assert excinfo.value.status_code == 413
    assert ("repository's" if shared == "repo" else "your") + " storage quota" in excinfo.value.message
    main = second_repo.refs.filter(name="main").first()
    assert "b.bin" not in manifest_of(main.revision if main else None)
    # A commit that adds no new bytes (the same blob under another name) still lands.
    unlimited = Limits(max_file_size=10**6, max_files=10, repo_remaining=10**6, user_remaining=10**6)
    again = Ingest(first_repo, limits=unlimited)  # past the streaming check: only the commit's is left
    again.add("copy-of-a.bin", [b"a" * 600])
    result = revision_create(first_repo, author=owner, message="copy", add=again.files)
    assert result.created and set(manifest_of(result.revision)) == {".gitattributes", "a.bin", "copy-of-a.bin"}
