"""preupload, validate-yaml and the ndjson commit, as the client sends them."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os

import httpx
import pytest

from hub.api import ApiError
from models_app.hf.commits import REGULAR_MAX_SIZE, ndjson_lines
from models_app.models import Ref, Revision
from models_app.repos.blobs import git_blob_sha1
from models_app.repos.revisions import manifest_of, tag_create
from models_app.repos.rules import repo_create
from tests.initial_commit import uploaded_revisions


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def commit(client, repo_id: str, *operations: dict, rev: str = "main", query: str = ""):
    lines = [{"key": "header", "value": {"summary": "Upload", "description": "why"}}, *operations]
    body = "".join(json.dumps(line) + "\n" for line in lines)
    return client.post(f"/api/models/{repo_id}/commit/{rev}{query}", data=body, content_type="application/x-ndjson")


def add(path: str, data: bytes) -> dict:
    return {"key": "file", "value": {"path": path, "content": b64(data), "encoding": "base64"}}


def preupload(client, repo_id: str, files: list[tuple[str, bytes, int]]):
    body = {"files": [{"path": p, "sample": b64(sample), "size": size} for p, sample, size in files]}
    return client.post(f"/api/models/{repo_id}/preupload/main", data=body, format="json")


def test_preupload_modes_and_the_current_oid(owner, write_client):
    repo_create(owner, "tiny")
    assert commit(write_client, "alice/tiny", add("config.json", b'{"a": 1}')).status_code == 200
    response = preupload(
        write_client,
        "alice/tiny",
        [
            ("config.json", b'{"a": 1}', 8),
            ("README.md", b"# Tiny", 6),
            ("model.safetensors", b"{}", 2),
            ("blob", b"\x00\x01", 2),
            ("huge.txt", b"text", REGULAR_MAX_SIZE),
            ("config2.json", b"{}", 2),
        ],
    )
    assert response.status_code == 200
    files = {f["path"]: f for f in response.json()["files"]}
    assert {p: f["uploadMode"] for p, f in files.items()} == {
        "config.json": "regular",
        "README.md": "regular",
        "model.safetensors": "lfs",
        "blob": "lfs",
        "huge.txt": "lfs",
        "config2.json": "regular",
    }
    assert files["config.json"]["oid"] == git_blob_sha1(b'{"a": 1}')  # what the client compares with
    assert files["README.md"]["oid"] is None and not any(f["shouldIgnore"] for f in files.values())
    odd = write_client.post(
        "/api/models/alice/tiny/preupload/main", data={"files": [{"path": "a", "sample": 5, "size": 1}]}, format="json"
    )
    assert odd.status_code == 400


def test_commit_adds_deletes_and_answers_the_sha(owner, write_client):
    repo_create(owner, "tiny")
    first = commit(write_client, "alice/tiny", add("a/x.txt", b"x"), add("a/y.txt", b"y"), add("keep.txt", b"k"))
    assert first.status_code == 200
    body = first.json()
    revision = Revision.objects.get(sha=body["commitOid"])
    assert body["commitUrl"].endswith(f"/alice/tiny/commit/{revision.sha}") and body["pullRequestUrl"] is None
    assert revision.message == "Upload" and revision.description == "why"
    second = commit(write_client, "alice/tiny", {"key": "deletedFolder", "value": {"path": "a/"}})
    assert second.status_code == 200
    assert list(Revision.objects.get(sha=second.json()["commitOid"]).files.values_list("path", flat=True)) == [
        ".gitattributes",  # from the repo's initial commit
        "keep.txt",
    ]
    gone = commit(write_client, "alice/tiny", {"key": "deletedFile", "value": {"path": "nope.txt"}})
    assert gone.status_code == 404 and gone["X-Error-Code"] == "EntryNotFound"


def test_commit_refusals(owner, write_client, read_client, anon_client):
    repo = repo_create(owner, "tiny")
    assert commit(read_client, "alice/tiny", add("a", b"a")).status_code == 403
    assert commit(anon_client, "alice/tiny", add("a", b"a")).status_code == 401
    branch = commit(write_client, "alice/tiny", add("a", b"a"), rev="dev")
    assert branch.status_code == 404 and branch["X-Error-Code"] == "RevisionNotFound"
    for content in ("!!", ["not", "text"]):
        bad = commit(write_client, "alice/tiny", {"key": "file", "value": {"path": "a", "content": content}})
        assert bad.status_code == 400 and "base64" in bad.json()["error"]
    escape = commit(write_client, "alice/tiny", add("../a", b"a"))
    assert escape.status_code == 422 and "'..'" in escape.json()["error"]  # 422, as the HF hub answers
    twice = commit(write_client, "alice/tiny", add("a", b"a"), add("a", b"b"))
    assert twice.status_code == 400 and "twice" in twice.json()["error"]
    no_header = write_client.post(
        "/api/models/alice/tiny/commit/main", data=json.dumps(add("a", b"a")), content_type="application/x-ndjson"
    )
    assert no_header.status_code == 400 and "header" in no_header.json()["error"]
    ok = commit(write_client, "alice/tiny", add("a", b"a"))
    tag_create(repo, "v1", Revision.objects.get(sha=ok.json()["commitOid"]))
    to_tag = commit(write_client, "alice/tiny", add("b", b"b"), rev="v1")  # a tag is no branch: none named v1
    assert to_tag.status_code == 404 and to_tag["X-Error-Code"] == "RevisionNotFound"
    assert uploaded_revisions().count() == 1


def test_create_pr_commits_to_a_new_pull_request_ref_and_leaves_main(owner, write_client):
    repo_create(owner, "tiny")
    main = Ref.objects.get(name="main").revision
    pr = commit(write_client, "alice/tiny", add("a", b"a"), query="?create_pr=1")
    assert pr.status_code == 200, pr.json()
    assert pr.json()["pullRequestUrl"].endswith("/alice/tiny/discussions/1")
    assert Ref.objects.get(name="main").revision == main
    ref = Ref.objects.get(kind=Ref.Kind.PR, name="1")
    assert ref.revision.sha == pr.json()["commitOid"] and ref.revision.parent == main
    assert set(manifest_of(ref.revision)) == {".gitattributes", "a"}
    again = commit(write_client, "alice/tiny", add("b", b"b"), query="?create_pr=1")
    assert again.json()["pullRequestUrl"].endswith("/discussions/2")
    # A refused commit opens no pull request.
    gone = commit(write_client, "alice/tiny", {"key": "deletedFile", "value": {"path": "x"}}, query="?create_pr=1")
    assert gone.status_code == 404
    assert list(Ref.objects.filter(kind=Ref.Kind.PR).values_list("name", flat=True).order_by("name")) == ["1", "2"]


def test_a_line_over_the_limit_is_refused_before_parsing():
    body = io.BytesIO(b'{"key": "header", "value": {}}\n' + b"x" * 100 + b"\n")
    lines = ndjson_lines(body.readline, max_line=50)
    assert next(lines)["key"] == "header"
    with pytest.raises(ApiError) as excinfo:
        next(lines)
    assert excinfo.value.status_code == 413 and "through LFS" in excinfo.value.message


def test_validate_yaml_answers_errors_and_warnings(write_client):
    response = write_client.post(
        "/api/validate-yaml", data={"content": "---\nlicense: mit\n---\n# Card\n", "repoType": "model"}, format="json"
    )
    assert response.status_code == 200 and response.json()["errors"] == []
    dataset = write_client.post("/api/validate-yaml", data={"content": "", "repoType": "space"}, format="json")
    assert dataset.status_code == 400 and "models and datasets only" in dataset.json()["error"]


def test_delete_repo_with_history(owner, write_client, other_client):
    repo_create(owner, "tiny")
    commit(write_client, "alice/tiny", add("a", b"a"))
    commit(write_client, "alice/tiny", add("b", b"b"))
    body = {"name": "tiny", "organization": "alice"}
    assert other_client.delete("/api/repos/delete", data=body, format="json").status_code == 403
    assert write_client.delete("/api/repos/delete", data=body, format="json").status_code == 200
    assert not Revision.objects.exists()
    gone = write_client.delete("/api/repos/delete", data=body, format="json")
    assert gone.status_code == 404 and gone["X-Error-Code"] == "RepoNotFound"


@pytest.mark.live
def test_a_commit_larger_than_djangos_body_limit_is_stored_through_the_live_server(live_hub):
    # The body reaches Django (not a streamed route): its ASGI handler spools it to a temp
    # file and the view reads it line by line, so three 4 MiB files inline (about 17 MiB of
    # ndjson) pass although DATA_UPLOAD_MAX_MEMORY_SIZE is 10 MiB.
    headers = {"Authorization": f"Bearer {live_hub.create_token('carol')}"}
    assert httpx.post(f"{live_hub.url}/api/repos/create", json={"name": "big-commit"}, headers=headers).is_success
    files = {f"part-{i}.txt": os.urandom(4 * 1024 * 1024) for i in range(3)}
    lines = [{"key": "header", "value": {"summary": "Three large regular files"}}]
    lines += [add(path, data) for path, data in files.items()]
    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
    assert len(body) > 16 * 1024 * 1024
    response = httpx.post(
        f"{live_hub.url}/api/models/carol/big-commit/commit/main",
        content=body,
        headers={**headers, "Content-Type": "application/x-ndjson"},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    for data in files.values():
        assert live_hub.blob_path(hashlib.sha256(data).hexdigest()).read_bytes() == data
