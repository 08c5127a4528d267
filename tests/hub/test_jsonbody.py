"""Request bodies with NUL or a lone surrogate in a string, or nested past the bound, are 400s (hub/jsonbody.py).

On PostgreSQL a NUL that reached the database was a 500, and Python's JSON
decoder gave up on deep nesting with a RecursionError, and no driver could encode a lone
surrogate (500s on any database).
"""

from __future__ import annotations

import json

import pytest

from hub.jsonbody import MAX_JSON_DEPTH
from models_app.repos.rules import repo_create
from tests.initial_commit import uploaded_revisions
from tests.models_app.multipart_body import CONTENT_TYPE, multipart

DEEP = "[" * 100_000 + "]" * 100_000
JUST_TOO_DEEP = json.dumps({"name": json.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)})


@pytest.mark.parametrize(
    "path",
    ["/api/models", "/api/repos/create", "/api/models/alice/m/preupload/main", "/alice/m.git/info/lfs/objects/batch"],
)
@pytest.mark.parametrize("body", [DEEP, JUST_TOO_DEEP])
def test_deeply_nested_json_is_a_400(owner, write_client, path, body):
    repo_create(owner, "m")
    response = write_client.post(path, data=body, content_type="application/json")
    assert response.status_code == 400
    assert f"deeper than {MAX_JSON_DEPTH} levels" in response.json()["error"]


FLAT_BODIES = [
    ("delete", "/api/repos/delete", {"name": "m\x00"}),
    ("delete", "/api/repos/delete", {"name": "m", "organization": "x\x00"}),
    ("post", "/api/models/alice/m/tag/main", {"tag": "v1", "\x00": "1"}),
]
CASES = [(*case, encoding) for case in FLAT_BODIES for encoding in ("json", "multipart")] + [
    ("post", "/api/models/alice/m/preupload/main", {"files": [{"path": "a", "size": 1, "sample": "\x00"}]}, "json")
]


@pytest.mark.parametrize("method, path, body, encoding", CASES)
def test_nul_in_a_body_is_a_400(owner, write_client, method, path, body, encoding):
    repo_create(owner, "m")
    response = getattr(write_client, method)(path, body, format=encoding)
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]


@pytest.mark.parametrize("summary, rule", [("a\x00b", "NUL"), ("a\ud800b", "Unpaired surrogates")])
def test_nul_or_a_lone_surrogate_in_an_ndjson_commit_is_a_400_and_stores_nothing(owner, write_client, summary, rule):
    repo_create(owner, "m")
    lines = [{"key": "header", "value": {"summary": summary}}, {"key": "file", "value": {"path": "a", "content": ""}}]
    body = "".join(json.dumps(line) + "\n" for line in lines)
    response = write_client.post("/api/models/alice/m/commit/main", data=body, content_type="application/x-ndjson")
    assert response.status_code == 400 and rule in response.json()["error"]
    assert not uploaded_revisions().exists()


def test_a_lone_surrogate_in_a_json_body_is_a_400(owner, write_client):
    body = json.dumps({"name": "m\ud800"})  # json.dumps escapes it: the wire carries \\ud800
    response = write_client.generic("DELETE", "/api/repos/delete", body, content_type="application/json")
    assert response.status_code == 400 and "Unpaired surrogates" in response.json()["error"]


def test_nul_in_a_native_upload_field_is_a_400(owner, write_client):
    repo_create(owner, "m")
    body = multipart({"a.txt": b"a"}, message="a\x00b")
    response = write_client.post("/api/models/alice/m/upload", data=body, content_type=CONTENT_TYPE)
    assert response.status_code == 400 and "NUL" in response.json()["error"]
    assert not uploaded_revisions().exists()
