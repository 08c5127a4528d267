"""What the live hub does with a request body too large for a JSON endpoint.

Upload routes stream their bodies (tests/models_app/test_streaming.py); a large
ndjson commit is read line by line (tests/models_app/test_hf_commits.py). Any
other API endpoint parses its body in memory, so past DATA_UPLOAD_MAX_MEMORY_SIZE
it refuses it.
"""

from __future__ import annotations

import json

import httpx
import pytest
from django.conf import settings

pytestmark = pytest.mark.live


def test_a_json_body_over_the_limit_is_refused_with_413_and_a_reason(live_hub):
    headers = {"Authorization": f"Bearer {live_hub.create_token('frank')}", "Content-Type": "application/json"}
    body = json.dumps({"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = httpx.post(f"{live_hub.url}/api/repos/create", content=body, headers=headers, timeout=60)
    assert response.status_code == 413
    assert "larger than 10 MiB" in response.json()["error"]
    assert response.headers["X-Error-Message"] == response.json()["error"]
    small = httpx.post(f"{live_hub.url}/api/repos/create", json={"name": "small"}, headers=headers)
    assert small.status_code == 200
