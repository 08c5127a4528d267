"""Abandoned Xet uploads leave nothing behind once the sweep has run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command

from models_app.models import Blob
from models_app.repos.revisions import revision_create
from models_app.storage import get_store
from models_app.xet.cleanup import xet_sweep
from models_app.xet.models import XetChunk, XetFile, Xorb
from tests.initial_commit import uploaded_blobs
from tests.xet.conftest import XORB_URL, post_bytes
from tests.xet.vectors import FILE_HASHES

pytestmark = pytest.mark.django_db
NOW = timedelta(0)


def xorb_files(tmp_path) -> list:
    return [p for p in (tmp_path / "xet" / "xorbs").rglob("*") if p.is_file()]


def test_xorbs_no_shard_named_are_swept(cas, xorb_bytes, isolated_xet):
    post_bytes(cas, XORB_URL, xorb_bytes)
    assert xet_sweep(timedelta(hours=1)).xorbs == 0  # still within the grace period
    assert xet_sweep(NOW).xorbs == 1
    assert not Xorb.objects.exists()
    assert xorb_files(isolated_xet) == []


def test_uncommitted_files_and_their_blobs_are_swept_but_used_xorbs_stay(cas, xorb_bytes, shard_bytes, isolated_xet):
    post_bytes(cas, XORB_URL, xorb_bytes)
    post_bytes(cas, "/xet/v1/shards", shard_bytes)
    keys = list(uploaded_blobs().values_list("storage_key", flat=True))
    result = xet_sweep(NOW)
    assert (result.files, result.blobs, result.xorbs) == (3, 3, 0)
    # only the repo's initial .gitattributes is left
    assert not XetFile.objects.exists() and not uploaded_blobs().exists()
    assert not any(get_store().exists(key) for key in keys)
    assert Xorb.objects.exists() and XetChunk.objects.exists()  # kept for later dedup


def test_committed_files_are_kept(cas, xorb_bytes, shard_bytes, repo, owner):
    post_bytes(cas, XORB_URL, xorb_bytes)
    post_bytes(cas, "/xet/v1/shards", shard_bytes)
    sha = FILE_HASHES["text"][1]
    revision_create(repo, author=owner, message="add", add={"notes.txt": Blob.objects.get(sha256=sha)})
    call_command("cleanup_xet", "--grace-hours", "0")
    assert Blob.objects.filter(sha256=sha).exists()
    assert XetFile.objects.filter(blob_id=sha).exists()
    assert uploaded_blobs().count() == 1


def test_pending_xorbs_count_against_the_user_quota(cas, xorb_bytes, settings):
    settings.HUB_USER_QUOTA = len(xorb_bytes) - 1
    response = post_bytes(cas, XORB_URL, xorb_bytes)
    assert response.status_code == 413
    assert "quota" in response.json()["error"]
    assert not Xorb.objects.exists()
