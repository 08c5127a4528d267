"""Direct LFS uploads in S3 mode: the client PUTs to presigned store URLs, the hub hashes before anything is visible.

Against a real moto server (``test_storage_s3``'s fixtures). The first tests
drive the LFS API with Django's test client and plain HTTP to the store, as
huggingface_hub does; the last runs the unmodified client against a live hub
in S3 mode.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.test import Client

from models_app.models import Blob
from models_app.repos.rules import repo_create
from models_app.storage import blob_key
from tests.models_app.test_lfs import LFS, batch, commit, lfs_file
from tests.models_app.test_storage_s3 import moto_url, s3_settings  # noqa: F401 - fixtures

pytestmark = pytest.mark.live

MiB = 1024 * 1024
BUCKET = "th-test-blobs"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def store_put(url: str, data: bytes) -> str:
    """A PUT straight to the object store, as the client sends it; the part's ETag."""
    # urllib's default form content type would have moto parse the body as a form.
    headers = {"Content-Type": "application/octet-stream"}
    request = urllib.request.Request(url, data=data, method="PUT", headers=headers)  # noqa: S310 - loopback moto
    with urllib.request.urlopen(request) as response:  # noqa: S310
        return response.headers["ETag"]


def verify(client, href: str, oid: str, size: int):
    parts = urlsplit(href)
    return client.post(
        f"{parts.path}?{parts.query}",
        data=json.dumps({"oid": oid, "size": size}),
        content_type=LFS,
        HTTP_ACCEPT=LFS,
    )


def keys(s3) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_small_object_goes_straight_to_the_store_and_is_hashed_before_commit(s3_settings, owner, write_client):  # noqa: F811
    repo_create(owner, "direct")
    data = b"\x00direct weights" * 20_000
    oid = hashlib.sha256(data).hexdigest()
    (obj,) = batch(write_client, "alice/direct", [{"oid": oid, "size": len(data)}]).json()["objects"]
    upload = obj["actions"]["upload"]
    assert upload["href"].startswith(s3_settings.meta.endpoint_url) and "header" not in upload
    # Before verify the hub knows nothing: a commit naming the object is refused.
    assert commit(write_client, "alice/direct", lfs_file("w.bin", oid, len(data))).status_code == 422
    store_put(upload["href"], data)
    assert any(key.startswith("staging/") for key in keys(s3_settings))
    assert not Blob.objects.filter(sha256=oid).exists()  # uploaded, not verified: invisible

    verified = verify(write_client, obj["actions"]["verify"]["href"], oid, len(data))
    assert verified.status_code == 200, verified.json()
    assert blob_key(oid) in keys(s3_settings) and not any(k.startswith("staging/") for k in keys(s3_settings))
    assert commit(write_client, "alice/direct", lfs_file("w.bin", oid, len(data))).status_code == 200
    download = Client().get("/alice/direct/resolve/main/w.bin")
    with urllib.request.urlopen(download["Location"]) as response:  # noqa: S310 - loopback moto
        assert hashlib.sha256(response.read()).hexdigest() == oid


def test_multipart_answer_has_part_urls_and_a_completion_url(s3_settings, owner, write_client, settings):  # noqa: F811
    # Hashed in the verify request here; tests/cluster has a worker hash a large one.
    settings.HUB_LFS_VERIFY_INLINE_MAX = 16 * MiB
    settings.HUB_LFS_MULTIPART_THRESHOLD = 6 * MiB
    settings.HUB_LFS_PART_SIZE = 5 * MiB
    repo_create(owner, "parts")
    data = bytes(range(256)) * (12 * MiB // 256)
    oid = hashlib.sha256(data).hexdigest()
    (obj,) = batch(write_client, "alice/parts", [{"oid": oid, "size": len(data)}]).json()["objects"]
    upload = obj["actions"]["upload"]
    assert upload["header"]["chunk_size"] == str(5 * MiB)
    assert sorted(k for k in upload["header"] if k != "chunk_size") == ["00001", "00002", "00003"]
    complete = urlsplit(upload["href"])
    assert complete.path == f"/alice/parts.git/info/lfs/objects/complete/{oid}"
    etags = [store_put(upload["header"][f"{n:05d}"], data[(n - 1) * 5 * MiB : n * 5 * MiB]) for n in range(1, 4)]
    bad = Client().post(f"{complete.path}?{complete.query}", data="nope", content_type=LFS)
    assert bad.status_code == 400 and "JSON" in bad.json()["error"]
    payload = {"oid": oid, "parts": [{"partNumber": n, "etag": etag} for n, etag in enumerate(etags, start=1)]}
    done = Client().post(f"{complete.path}?{complete.query}", data=json.dumps(payload), content_type=LFS)
    assert done.status_code == 200, done.content
    assert verify(write_client, obj["actions"]["verify"]["href"], oid, len(data)).status_code == 200
    assert commit(write_client, "alice/parts", lfs_file("big.bin", oid, len(data))).status_code == 200
    assert s3_settings.get_object(Bucket=BUCKET, Key=blob_key(oid))["Body"].read() == data


def test_tampered_object_is_refused_deleted_and_never_visible(s3_settings, owner, write_client):  # noqa: F811
    repo_create(owner, "tamper")
    data = b"the real weights" * 10_000
    oid = hashlib.sha256(data).hexdigest()
    (obj,) = batch(write_client, "alice/tamper", [{"oid": oid, "size": len(data)}]).json()["objects"]
    store_put(obj["actions"]["upload"]["href"], b"evil weights!!!!" * 10_000)  # same size, other bytes

    refused = verify(write_client, obj["actions"]["verify"]["href"], oid, len(data))
    assert refused.status_code == 422
    assert "sha256" in refused.json()["error"] and "discarded" in refused.json()["error"]
    assert keys(s3_settings) == [k for k in keys(s3_settings) if not k.startswith("staging/")]
    assert blob_key(oid) not in keys(s3_settings) and not Blob.objects.filter(sha256=oid).exists()
    answer = commit(write_client, "alice/tamper", lfs_file("w.bin", oid, len(data)))
    assert answer.status_code == 422 and "was not uploaded" in answer.json()["error"]
    # A forged verify link is refused before anything is read.
    forged = verify(write_client, obj["actions"]["verify"]["href"].replace("?t=", "?t=x"), oid, len(data))
    assert forged.status_code == 403


def test_unmodified_client_uploads_small_and_multipart_objects_to_the_store(
    s3_settings,  # noqa: F811
    moto_url,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    huggingface_hub = pytest.importorskip("huggingface_hub")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)  # LFS, not Xet
    from tests.live import LiveHub

    env = {
        "HUB_STORAGE": "s3",
        "AWS_S3_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "HUB_LFS_MULTIPART_THRESHOLD": "6MiB",
        "HUB_LFS_PART_SIZE": "5MiB",
        "HUB_LFS_VERIFY_INLINE_MAX": "1MiB",
        # The large one's hash is the Celery task's, run in the web process here (by a worker in tests/cluster).
        "CELERY_TASK_ALWAYS_EAGER": "1",
    }
    files = {"small.bin": b"\x07small" * 50_000, "big.safetensors": bytes(range(251)) * (13 * MiB // 251)}
    with LiveHub(tmp_path / "hub", extra_env=env) as hub:
        token = hub.create_token("direct-s3-user", "write")
        api = huggingface_hub.HfApi(endpoint=hub.url, token=token)
        api.create_repo("direct-s3-user/direct")
        for name, data in files.items():
            (tmp_path / name).write_bytes(data)
            api.upload_file(path_or_fileobj=str(tmp_path / name), path_in_repo=name, repo_id="direct-s3-user/direct")
        for name, data in files.items():
            path = huggingface_hub.hf_hub_download(
                "direct-s3-user/direct", name, endpoint=hub.url, token=token, cache_dir=str(tmp_path / "cache")
            )
            with open(path, "rb") as handle:
                assert hashlib.sha256(handle.read()).hexdigest() == hashlib.sha256(data).hexdigest()
            assert blob_key(hashlib.sha256(data).hexdigest()) in keys(s3_settings)
        assert not any(key.startswith("staging/") for key in keys(s3_settings))
