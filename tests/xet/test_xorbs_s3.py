"""Xet in S3 mode: the bucket holds the xorbs, so any CAS process can rebuild a file another one received."""

from __future__ import annotations

import shutil
from datetime import timedelta

from models_app.models import Blob
from models_app.storage import get_store
from models_app.xet.cleanup import xet_sweep
from tests.models_app.test_storage_s3 import moto_url, s3_settings  # noqa: F401 - fixtures
from tests.xet.conftest import XORB_URL, post_bytes
from tests.xet.vectors import FILE_HASHES, XORB_HEX, vector_files

BUCKET = "th-test-blobs"


def keys(client, prefix: str = "xet/") -> set[str]:
    return {obj["Key"] for obj in client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])}


def test_a_xorb_is_in_the_bucket_before_its_row_and_rebuilds_on_a_cold_cas_process(
    s3_settings,  # noqa: F811
    cas,
    xorb_bytes,
    shard_bytes,
    isolated_xet,
):
    assert post_bytes(cas, XORB_URL, xorb_bytes).status_code == 200
    folder = f"xet/xorbs/{XORB_HEX[:2]}/"
    assert keys(s3_settings) == {f"{folder}{XORB_HEX}.xorb", f"{folder}{XORB_HEX}.idx"}

    # Another CAS process (or this one, wiped) takes the shard: it fetches the xorb from the bucket.
    shutil.rmtree(isolated_xet / "xet" / "xorbs")
    response = post_bytes(cas, "/xet/v1/shards", shard_bytes)
    assert response.status_code == 200, response.content
    files = vector_files()
    for name, (_, sha256) in FILE_HASHES.items():
        with get_store().open(Blob.objects.get(sha256=sha256).storage_key) as handle:
            assert handle.read() == files[name]


def test_a_xorb_the_bucket_holds_is_not_asked_for_again(s3_settings, cas, xorb_bytes, isolated_xet):  # noqa: F811
    assert post_bytes(cas, XORB_URL, xorb_bytes).json() == {"was_inserted": True}
    shutil.rmtree(isolated_xet / "xet" / "xorbs")
    assert post_bytes(cas, XORB_URL, xorb_bytes).json() == {"was_inserted": False}


def test_the_sweep_removes_an_unused_xorb_from_the_bucket(s3_settings, cas, xorb_bytes):  # noqa: F811
    assert post_bytes(cas, XORB_URL, xorb_bytes).status_code == 200
    assert xet_sweep(timedelta(0)).xorbs == 1
    assert keys(s3_settings) == set()
