"""Snapshots: a revision's files on the worker, from a cache keyed by blob sha256."""

from __future__ import annotations

import os

import pytest

from models_app.models import ModelRepo
from models_app.validation import snapshots
from tests.validation.jobs_fixtures import publish_bytes

pytestmark = pytest.mark.django_db


def test_snapshot_holds_every_file_and_shares_blobs_by_sha(jobs_settings, tiny_repo):
    first = publish_bytes(tiny_repo, {"config.json": b'{"a": 1}', "sub/weights.bin": b"same-bytes"})
    second = publish_bytes(tiny_repo, {"config.json": b'{"a": 2}'})  # weights unchanged
    one, two = snapshots.materialize(first), snapshots.materialize(second)
    try:
        assert (one / "sub/weights.bin").read_bytes() == b"same-bytes"
        assert (two / "config.json").read_bytes() == b'{"a": 2}'
        assert os.path.samefile(one / "sub/weights.bin", two / "sub/weights.bin")  # cached once
        assert len(list((jobs_settings.VALIDATION_CACHE_DIR / "blobs").glob("*/*"))) == 3
    finally:
        snapshots.discard(one)
        snapshots.discard(two)
    assert not one.exists() and (jobs_settings.VALIDATION_CACHE_DIR / "blobs").exists()


def test_copied_blobs_are_verified_and_pruned_least_recently_used_first(
    jobs_settings, tiny_repo, other_user, monkeypatch
):
    # A store on another filesystem (or S3) is read through open(): copies, verified by sha256.
    from models_app.storage import get_store

    store = get_store()
    monkeypatch.setattr(type(store), "local_path", lambda self, key: None)
    jobs_settings.VALIDATION_CACHE_MAX_BYTES = 10
    old = publish_bytes(tiny_repo, {"a.bin": b"x" * 8})
    folder = snapshots.materialize(old)
    snapshots.discard(folder)
    other = ModelRepo.objects.create(owner=other_user, name="other")
    new = publish_bytes(other, {"b.bin": b"y" * 8})
    folder = snapshots.materialize(new)
    assert (folder / "b.bin").read_bytes() == b"y" * 8
    snapshots.discard(folder)  # 8 + 8 bytes cached > 10: the least recently used copy goes
    cached = {p.name for p in (jobs_settings.VALIDATION_CACHE_DIR / "blobs").glob("*/*")}
    assert cached == {new.files.get().blob_id}
