"""With object storage, a download is a redirect to a presigned URL that serves the bytes (real moto server)."""

from __future__ import annotations

import urllib.request

import pytest

from tests.models_app.reuse_helpers import publish
from tests.models_app.test_storage_s3 import moto_url, s3_settings  # noqa: F401 - fixtures

pytestmark = pytest.mark.live


def test_get_redirects_to_presigned_url_and_head_stays(s3_settings, anon_client, owner):  # noqa: F811
    data = b"\x01weights" * 1000
    _, revision = publish(owner, "on-s3", {"model.safetensors": data})
    head = anon_client.head("/alice/on-s3/resolve/main/model.safetensors")
    assert head.status_code == 200 and head["X-Linked-Size"] == str(len(data))
    assert head["X-Repo-Commit"] == revision.sha
    get = anon_client.get("/alice/on-s3/resolve/main/model.safetensors")
    assert get.status_code == 302
    with urllib.request.urlopen(get["Location"]) as response:  # noqa: S310 - the loopback moto server
        assert response.read() == data
