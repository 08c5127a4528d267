"""The LFS batch API: signed upload links, streaming into the blob store, and who may commit an object."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.test import Client

from models_app.hf import lfs_objects
from models_app.models import Blob, RepoFile
from models_app.repos.quota import repo_usage
from models_app.repos.rules import repo_create
from tests.initial_commit import uploaded_blobs

WEIGHTS = b"\x00\x01weights" * 4096
OID = hashlib.sha256(WEIGHTS).hexdigest()
LFS = "application/vnd.git-lfs+json"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()  # upload memory lives in the cache; ids are reused between tests
    yield
    cache.clear()


def batch(client, repo_id: str, objects: list[dict], ref: str | None = None):
    body = {"operation": "upload", "transfers": ["basic", "multipart"], "objects": objects, "hash_algo": "sha256"}
    if ref is not None:
        body["ref"] = {"name": ref}
    return client.post(
        f"/{repo_id}.git/info/lfs/objects/batch", data=json.dumps(body), content_type=LFS, HTTP_ACCEPT=LFS
    )


def put(href: str, data: bytes):
    parts = urlsplit(href)
    return Client().put(f"{parts.path}?{parts.query}", data=data, content_type="application/octet-stream")


def commit(client, repo_id: str, *operations: dict, parent: str | None = None):
    header = {"summary": "Upload", "description": ""}
    if parent:
        header["parentCommit"] = parent
    lines = [{"key": "header", "value": header}, *operations]
    body = "".join(json.dumps(line) + "\n" for line in lines)
    return client.post(f"/api/models/{repo_id}/commit/main", data=body, content_type="application/x-ndjson")


def lfs_file(path: str, oid: str = OID, size: int = len(WEIGHTS)) -> dict:
    return {"key": "lfsFile", "value": {"path": path, "algo": "sha256", "oid": oid, "size": size}}


def test_upload_link_streams_into_the_store_and_the_commit_names_the_object(owner, write_client, isolated_store):
    repo_create(owner, "tiny")
    response = batch(write_client, "alice/tiny", [{"oid": OID, "size": len(WEIGHTS)}])
    assert response.status_code == 200 and response["Content-Type"].startswith(LFS)
    (obj,) = response.json()["objects"]
    assert obj["oid"] == OID and set(obj["actions"]) == {"upload", "verify"}
    assert put(obj["actions"]["upload"]["href"], WEIGHTS).status_code == 200
    verify = write_client.post(
        urlsplit(obj["actions"]["verify"]["href"]).path,
        data=json.dumps({"oid": OID, "size": len(WEIGHTS)}),
        content_type=LFS,
        HTTP_ACCEPT=LFS,
    )
    assert verify.status_code == 200
    # Uploaded, not committed: no revision names it yet.
    assert Blob.objects.filter(sha256=OID).exists() and not RepoFile.objects.filter(blob_id=OID).exists()

    response = commit(write_client, "alice/tiny", lfs_file("model.safetensors"))
    assert response.status_code == 200, response.json()
    assert RepoFile.objects.get(path="model.safetensors").blob_id == OID
    stored = isolated_store.BLOB_DIR / OID[:2] / OID[2:4] / OID
    assert stored.read_bytes() == WEIGHTS
    # Stored and readable by the uploader: the next batch asks for no upload.
    (again,) = batch(write_client, "alice/tiny", [{"oid": OID, "size": len(WEIGHTS)}]).json()["objects"]
    assert "actions" not in again


def test_wrong_bytes_forged_expired_or_foreign_links_store_nothing(owner, write_client, isolated_store, monkeypatch):
    repo_create(owner, "tiny")
    (obj,) = batch(write_client, "alice/tiny", [{"oid": OID, "size": len(WEIGHTS)}]).json()["objects"]
    href = obj["actions"]["upload"]["href"]

    wrong = put(href, b"\x00" * len(WEIGHTS))
    assert wrong.status_code == 422 and "sha256 mismatch" in wrong.json()["error"]
    short = put(href, WEIGHTS[:-1])
    assert short.status_code == 400 and "expected" in short.json()["error"]
    forged = put(href.replace("?t=", "?t=x"), WEIGHTS)
    assert forged.status_code == 403 and "not valid" in forged.json()["error"]
    other_oid = put(href.replace(OID, "0" * 64, 1), b"")
    assert other_oid.status_code == 403
    monkeypatch.setattr(lfs_objects, "UPLOAD_LINK_MAX_AGE", -1)
    expired = put(href, WEIGHTS)
    assert expired.status_code == 403 and "expired" in expired["X-Error-Message"]
    assert not uploaded_blobs().exists() and list(isolated_store.UPLOAD_TMP_DIR.iterdir()) == []


def test_knowing_a_hash_is_not_enough_to_commit_someone_elses_object(
    owner, other_user, write_client, other_client, isolated_store
):
    private = repo_create(owner, "secret", private=True)
    (obj,) = batch(write_client, "alice/secret", [{"oid": OID, "size": len(WEIGHTS)}]).json()["objects"]
    put(obj["actions"]["upload"]["href"], WEIGHTS)
    assert commit(write_client, "alice/secret", lfs_file("w.bin")).status_code == 200
    assert private.private

    repo_create(other_user, "copycat")
    # Bob is asked to upload the bytes himself, and cannot commit by hash alone.
    (asked,) = batch(other_client, "bob/copycat", [{"oid": OID, "size": len(WEIGHTS)}]).json()["objects"]
    assert "upload" in asked["actions"]
    refused = commit(other_client, "bob/copycat", lfs_file("w.bin"))
    assert refused.status_code == 422 and "was not uploaded to bob/copycat" in refused.json()["error"]
    # With the bytes in hand he may: the store keeps one copy.
    assert put(asked["actions"]["upload"]["href"], WEIGHTS).status_code == 200
    assert commit(other_client, "bob/copycat", lfs_file("w.bin")).status_code == 200
    assert uploaded_blobs().count() == 1


def test_batch_refusals(owner, write_client, read_client, other_client, anon_client, isolated_store):
    repo_create(owner, "tiny")
    isolated_store.HUB_MAX_FILE_SIZE = 100
    objects = batch(write_client, "alice/tiny", [{"oid": OID, "size": 101}, {"oid": "nope", "size": 1}]).json()
    assert [o["error"]["code"] for o in objects["objects"]] == [413, 422]
    assert batch(read_client, "alice/tiny", []).status_code == 403
    assert batch(anon_client, "alice/tiny", []).status_code == 401
    # Another account may upload a pull request's files (the client names no branch then), not main's.
    assert batch(other_client, "alice/tiny", []).status_code == 200
    assert batch(other_client, "alice/tiny", [], ref="main").status_code == 403
    missing = batch(write_client, "alice/nothing", [])
    assert missing.status_code == 404 and missing["X-Error-Code"] == "RepoNotFound"


def test_regular_files_in_the_commit_go_through_the_same_ingest(owner, write_client, isolated_store):
    repo_create(owner, "tiny")
    isolated_store.HUB_MAX_FILE_SIZE = 10
    line = {"key": "file", "value": {"path": "big.txt", "content": base64.b64encode(b"x" * 11).decode()}}
    response = commit(write_client, "alice/tiny", line)
    assert response.status_code == 413 and "limit per file" in response.json()["error"]
    assert not uploaded_blobs().exists()


def test_objects_uploaded_one_by_one_still_count_against_the_quota_together(owner, write_client, isolated_store):
    repo = repo_create(owner, "tiny")
    isolated_store.HUB_REPO_QUOTA = repo_usage(repo) + 100  # over what the initial .gitattributes holds
    first, second = b"\x00a" * 30, b"\x00b" * 30
    operations = []
    for number, data in enumerate((first, second)):
        oid = hashlib.sha256(data).hexdigest()
        (obj,) = batch(write_client, "alice/tiny", [{"oid": oid, "size": len(data)}]).json()["objects"]
        assert put(obj["actions"]["upload"]["href"], data).status_code == 200  # 60 bytes: within the quota
        operations.append(lfs_file(f"w{number}.bin", oid, len(data)))
    assert commit(write_client, "alice/tiny", operations[0]).status_code == 200
    over = commit(write_client, "alice/tiny", operations[1], lfs_file("copy.bin", *_oid_size(first)))
    assert over.status_code == 413 and "repository's storage quota" in over.json()["error"]
    assert not RepoFile.objects.filter(path="w1.bin").exists()


def _oid_size(data: bytes) -> tuple[str, int]:
    return hashlib.sha256(data).hexdigest(), len(data)
