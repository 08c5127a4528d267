"""The S3 blob store against a real S3-compatible server (moto's server mode, started here)."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request

import pytest

from models_app.models import Blob
from models_app.publish.uploads import Ingest
from models_app.repos.revisions import manifest_of, revision_create
from models_app.repos.rules import repo_create
from models_app.storage import _configured_store, get_store
from tests.initial_commit import GITATTRIBUTES_SHA256
from tests.live import free_port

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory):
    pytest.importorskip("moto.server", reason="needs moto[server]")
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)  # noqa: S310 - loopback
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("moto server did not start")
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:  # a loaded machine: moto's server can take longer to shut down
        proc.kill()
        proc.wait(timeout=10)
    log.close()


@pytest.fixture
def s3_settings(settings, moto_url):
    import boto3

    settings.HUB_STORAGE = "s3"
    settings.AWS_S3_ENDPOINT_URL = moto_url
    settings.AWS_ACCESS_KEY_ID = "testing"
    settings.AWS_SECRET_ACCESS_KEY = "testing"
    settings.AWS_S3_REGION_NAME = "us-east-1"
    settings.AWS_STORAGE_BUCKET_NAME = "th-test-blobs"
    client = boto3.client(
        "s3",
        endpoint_url=moto_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket="th-test-blobs")
    _configured_store.cache_clear()
    yield client
    _configured_store.cache_clear()
    for obj in client.list_objects_v2(Bucket="th-test-blobs").get("Contents", []):
        client.delete_object(Bucket="th-test-blobs", Key=obj["Key"])


def test_s3_round_trip_and_dedup(s3_settings, owner, other_user, settings):
    weights = b"\x00weights\xff" * 50_000
    repo = repo_create(owner, "s3-model")
    ingest = Ingest(repo)
    blobs = {
        "model.safetensors": ingest.add("model.safetensors", [weights[:1000], weights[1000:]]),
        "README.md": ingest.add("README.md", [b"---\nlicense: mit\npipeline_tag: fill-mask\n---\n# On S3\n"]),
    }
    revision = revision_create(repo, author=owner, message="to s3", add=blobs).revision
    store = get_store()
    assert type(store).__name__ == "S3BlobStore"
    key = blobs["model.safetensors"].storage_key
    with store.open(key) as handle:
        assert handle.read() == weights
    assert manifest_of(revision)["model.safetensors"] == blobs["model.safetensors"].sha256
    repo.refresh_from_db()
    assert repo.license == "mit"  # the card was read back from S3 inside the commit
    Ingest(repo_create(other_user, "copy")).add("model.safetensors", [weights])
    objects = s3_settings.list_objects_v2(Bucket="th-test-blobs")["Contents"]
    # and the .gitattributes of the repos' initial commits, once for both
    initial = Blob.objects.get(sha256=GITATTRIBUTES_SHA256).storage_key
    assert sorted(o["Key"] for o in objects) == sorted([initial, *(b.storage_key for b in blobs.values())])
    assert list(settings.UPLOAD_TMP_DIR.iterdir()) == []
    assert store.url(key).startswith(settings.AWS_S3_ENDPOINT_URL)
