"""Every list a request body holds is bounded: over the bound, a 413 that names it; at the client's size, accepted."""

from __future__ import annotations

import json

import pytest

from models_app.bounds import (
    MAX_COMMIT_OPERATIONS,
    MAX_FILTER_TAGS,
    MAX_LFS_BATCH_OBJECTS,
    MAX_PREUPLOAD_FILES,
    MAX_REPO_TAGS,
)
from models_app.models import Revision
from models_app.repos.rules import repo_create
from tests.models_app.test_hf_commits import add, commit, preupload
from tests.models_app.test_lfs import LFS

# What huggingface_hub sends per preupload and LFS batch call (UPLOAD_BATCH_MAX_NUM_FILES).
CLIENT_BATCH = 256


def lfs_batch(client, count: int):
    objects = [{"oid": f"{i:064x}", "size": 10} for i in range(count)]
    body = {"operation": "upload", "transfers": ["basic"], "objects": objects, "hash_algo": "sha256"}
    return client.post("/alice/m.git/info/lfs/objects/batch", data=json.dumps(body), content_type=LFS)


@pytest.fixture
def repo(owner):
    return repo_create(owner, "m")


def assert_names_the_bound(response, limit: int) -> None:
    assert response.status_code == 413
    body = response.json()
    assert str(limit) in body["error"] and body["detail"] == {"limit": limit}
    assert str(limit) in response["X-Error-Message"]


def test_lfs_batch_over_the_bound_is_refused(write_client, repo):
    assert_names_the_bound(lfs_batch(write_client, MAX_LFS_BATCH_OBJECTS + 1), MAX_LFS_BATCH_OBJECTS)


def test_lfs_batch_of_the_clients_size_is_answered(write_client, repo):
    response = lfs_batch(write_client, CLIENT_BATCH)
    assert response.status_code == 200 and len(response.json()["objects"]) == CLIENT_BATCH


def test_preupload_over_the_bound_is_refused(write_client, repo):
    files = [(f"f{i}.txt", b"x", 1) for i in range(MAX_PREUPLOAD_FILES + 1)]
    assert_names_the_bound(preupload(write_client, "alice/m", files), MAX_PREUPLOAD_FILES)


def test_preupload_of_the_clients_size_is_answered(write_client, repo):
    files = [(f"f{i}.txt", b"x", 1) for i in range(CLIENT_BATCH)]
    response = preupload(write_client, "alice/m", files)
    assert response.status_code == 200 and len(response.json()["files"]) == CLIENT_BATCH


def test_commit_with_too_many_operations_is_refused_and_stores_nothing(write_client, repo):
    assert commit(write_client, "alice/m", add("a.txt", b"a")).status_code == 200
    deletions = [{"key": "deletedFile", "value": {"path": "a.txt"}}] * (MAX_COMMIT_OPERATIONS + 1)
    assert_names_the_bound(commit(write_client, "alice/m", *deletions), MAX_COMMIT_OPERATIONS)
    assert Revision.objects.filter(repo=repo).count() == 2  # the initial commit and a.txt


@pytest.mark.parametrize("method, path", [("post", "/api/models"), ("patch", "/api/models/alice/m/settings")])
def test_too_many_tags_are_refused(write_client, repo, method, path):
    tags = [f"t{i}" for i in range(MAX_REPO_TAGS + 1)]
    response = getattr(write_client, method)(path, {"name": "n", "tags": tags}, format="json")
    assert response.status_code == 400
    assert response.json()["error"].startswith("tags:") and str(MAX_REPO_TAGS) in response.json()["error"]


@pytest.mark.parametrize("client_name", ["anon_client", "read_client"])  # the anonymous fast path and DRF
def test_listing_with_too_many_tag_filters_is_a_400(request, repo, client_name):
    client = request.getfixturevalue(client_name)
    filters = "&".join(f"filter=t{i}" for i in range(MAX_FILTER_TAGS + 1))
    response = client.get(f"/api/models?{filters}")
    assert response.status_code == 400
    assert str(MAX_FILTER_TAGS) in response.json()["error"] and str(MAX_FILTER_TAGS) in response["X-Error-Message"]
    at_the_bound = "&".join(f"filter=t{i}" for i in range(MAX_FILTER_TAGS))
    assert client.get(f"/api/models?{at_the_bound}").status_code == 200
    assert client.get(f"/models?{filters}").status_code == 400  # the web listing
