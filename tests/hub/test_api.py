"""The API's error shape for requests Django itself refuses (hub/api.py)."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from models_app.repos.rules import repo_create

TOO_BIG = json.dumps({"name": "m", "pad": "a" * (10 * 2**20 + 1)})


@pytest.mark.parametrize(
    "path",
    [
        "/api/repos/create",
        "/api/validate-yaml",
        "/api/models",
        "/api/models/alice/m/preupload/main",
        "/alice/m.git/info/lfs/objects/batch",
    ],
)
def test_a_json_body_over_10_mib_is_413_in_the_api_shape(owner, write_client, path):
    repo_create(owner, "m")
    response = write_client.post(path, data=TOO_BIG, content_type="application/json")
    assert response.status_code == 413
    body = response.json()
    assert "larger than 10 MiB" in body["error"]
    assert body["detail"] == {"limit_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    assert response["X-Error-Message"] == body["error"]
