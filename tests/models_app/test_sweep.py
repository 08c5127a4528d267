"""The storage sweep: what no revision names goes after its grace period; everything in use stays."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from models_app.hf import lfs_objects
from models_app.models import Blob
from models_app.publish.uploads import Ingest
from models_app.repos.rules import repo_create
from models_app.sweep import sweep_storage
from models_app.tasks import storage_sweep
from tests.initial_commit import uploaded_files
from tests.models_app.test_api_publish import upload

pytestmark = pytest.mark.django_db
NOW = timedelta(0)
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def isolated_xet(settings, tmp_path):
    settings.XET_DIR = tmp_path / "xet"


def age(sha256: str, by: timedelta) -> None:
    Blob.objects.filter(sha256=sha256).update(created=timezone.now() - by)


def test_a_failed_upload_leaves_a_blob_the_sweep_removes_after_its_grace(write_client, owner, settings):
    repo_create(owner, "m")
    assert upload(write_client, "alice/m", {"kept.txt": b"committed bytes"}).status_code == 201
    stray = b"stored before the second file failed"
    response = upload(write_client, "alice/m", {"a.bin": stray, "b.txt": b"abc"}, **{"sha256:b.txt": "0" * 64})
    assert response.status_code == 422
    stray_sha = hashlib.sha256(stray).hexdigest()
    assert Blob.objects.filter(sha256=stray_sha).exists()
    assert sorted(uploaded_files(settings.BLOB_DIR)) == sorted([b"committed bytes", stray])

    assert sweep_storage().blobs == 0  # within HUB_BLOB_GRACE_HOURS
    result = sweep_storage(NOW)
    assert (result.blobs, result.blob_bytes) == (1, len(stray))
    assert not Blob.objects.filter(sha256=stray_sha).exists()
    assert uploaded_files(settings.BLOB_DIR) == [b"committed bytes"]  # the initial .gitattributes stays too
    page = write_client.get("/alice/m/resolve/main/kept.txt")
    assert page.status_code == 200 and b"".join(page.streaming_content) == b"committed bytes"


def test_a_blob_uploaded_again_is_spared_for_its_commit(owner):
    repo = repo_create(owner, "m")
    data = b"uploaded once, abandoned, uploaded again"
    first = Ingest(repo).add("w.bin", [data])
    age(first.sha256, 2 * DAY)
    Ingest(repo).add("w.bin", [data])  # the same bytes again: the stored blob is reused
    assert sweep_storage(DAY).blobs == 0
    assert Blob.objects.filter(sha256=first.sha256).exists()


def test_an_lfs_batch_that_finds_the_object_spares_it(owner):
    repo = repo_create(owner, "m")
    blob = Ingest(repo).add("lfs", [os.urandom(1000)])
    lfs_objects.remember_upload(owner, repo, blob.sha256)
    age(blob.sha256, 2 * DAY)
    # The client asks whether to upload; the hub says it has the object, and the commit comes next.
    assert lfs_objects.usable_blob(owner, repo, blob.sha256, blob.size) is not None
    assert sweep_storage(DAY).blobs == 0


def test_stale_temp_files_go_and_fresh_ones_stay(settings):
    stale, fresh = settings.UPLOAD_TMP_DIR / "old.part", settings.UPLOAD_TMP_DIR / "new.part"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    assert storage_sweep.apply().get()["temp_files"] == 1  # the Celery task beat runs
    assert not stale.exists() and fresh.exists()


def test_the_command_reports_what_it_removed(owner, capsys):
    repo = repo_create(owner, "m")
    Ingest(repo).add("x.bin", [b"never committed"])
    call_command("sweep_storage", "--grace-hours", "0")
    assert "removed 1 blob(s) (15 bytes)" in capsys.readouterr().out
