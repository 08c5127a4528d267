"""Downloads: headers the HF client reads, Range, conditional requests, errors and access."""

from __future__ import annotations

import hashlib

import pytest

from models_app.bytes_routes import BYTES_ROUTES
from models_app.models import ModelRepo
from models_app.repos.blobs import git_blob_sha1
from models_app.repos.rules import repo_create
from models_app.reuse.downloads import parse_range
from tests.models_app.reuse_helpers import publish

WEIGHTS = bytes(range(256)) * 40  # 10,240 bytes
SHA = hashlib.sha256(WEIGHTS).hexdigest()


@pytest.fixture
def model(owner):
    return publish(owner, "tiny", {"model.safetensors": WEIGHTS, "config.json": b"{}"}, tag="v1")


def url(rev="main", path="model.safetensors", repo="alice/tiny"):
    return f"/{repo}/resolve/{rev}/{path}"


def test_head_carries_what_the_hf_client_reads(anon_client, model):
    _, revision = model
    response = anon_client.head(url())
    assert response.status_code == 200
    assert response["X-Repo-Commit"] == revision.sha
    assert response["ETag"] == f'"{SHA}"' == response["X-Linked-Etag"]
    assert response["X-Linked-Size"] == response["Content-Length"] == str(len(WEIGHTS))
    assert response["Accept-Ranges"] == "bytes"
    assert response.content == b""


def test_a_regular_files_etag_is_its_git_object_id(anon_client, model):
    """As on the HF hub: the client compares it with its local copy's git id (hf_hub_download(local_dir=...))."""
    response = anon_client.head(url(path="config.json"))
    assert response["ETag"] == f'"{git_blob_sha1(b"{}")}"' == response["X-Linked-Etag"]
    assert anon_client.get(url(path="config.json"), HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


@pytest.mark.parametrize("rev", ["main", "v1", "sha"])
def test_get_by_branch_tag_and_sha(anon_client, model, rev):
    _, revision = model
    response = anon_client.get(url(revision.sha if rev == "sha" else rev))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == WEIGHTS


def test_single_range_gives_206(anon_client, model):
    response = anon_client.get(url(), HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{len(WEIGHTS)}"
    assert b"".join(response.streaming_content) == WEIGHTS[100:200]


def test_open_and_suffix_ranges(anon_client, model):
    tail = anon_client.get(url(), HTTP_RANGE="bytes=10000-")
    assert b"".join(tail.streaming_content) == WEIGHTS[10000:]
    suffix = anon_client.get(url(), HTTP_RANGE="bytes=-40")
    assert suffix.status_code == 206 and b"".join(suffix.streaming_content) == WEIGHTS[-40:]


def test_unsatisfiable_range_gives_416(anon_client, model):
    response = anon_client.get(url(), HTTP_RANGE=f"bytes={len(WEIGHTS)}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(WEIGHTS)}"


def test_if_none_match_gives_304(anon_client, model):
    response = anon_client.get(url(), HTTP_IF_NONE_MATCH=f'"{SHA}"')
    assert response.status_code == 304


def test_stale_if_range_sends_the_whole_file(anon_client, model):
    response = anon_client.get(url(), HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"0000"')
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == WEIGHTS
    fresh = anon_client.get(url(), HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=f'"{SHA}"')
    assert fresh.status_code == 206


def test_missing_file_is_entry_not_found_with_commit(anon_client, model):
    _, revision = model
    response = anon_client.head(url(path="added_tokens.json"))
    assert response.status_code == 404
    assert response["X-Error-Code"] == "EntryNotFound"
    assert response["X-Repo-Commit"] == revision.sha


def test_a_file_of_an_empty_repo_is_entry_not_found(owner, anon_client):
    repo = repo_create(owner, "empty")  # what push_to_hub does first; it then reads README.md
    response = anon_client.head(url(repo="alice/empty", path="README.md"))
    assert response.status_code == 404 and response["X-Error-Code"] == "EntryNotFound"
    # A new repo's main holds its initial commit (.gitattributes), as on the HF hub.
    assert response["X-Repo-Commit"] == repo.refs.get(name="main").revision.sha
    assert anon_client.head(url(repo="alice/empty", rev="dev", path="README.md"))["X-Error-Code"] == "RevisionNotFound"


def test_unknown_revision(anon_client, model):
    response = anon_client.get(url(rev="nope"))
    assert response.status_code == 404
    assert response["X-Error-Code"] == "RevisionNotFound"


def test_private_repo_answers_like_a_missing_one(owner, anon_client, other_client, read_client):
    publish(owner, "secret", {"config.json": b"{}"}, private=True)
    anon = anon_client.get(url(repo="alice/secret", path="config.json"))
    missing = anon_client.get(url(repo="alice/nothing-here", path="config.json"))
    assert anon.status_code == missing.status_code == 401
    assert anon["X-Error-Code"] == missing["X-Error-Code"] == "RepoNotFound"
    assert other_client.get(url(repo="alice/secret", path="config.json")).status_code == 404
    assert read_client.get(url(repo="alice/secret", path="config.json")).status_code == 200


def test_downloads_count_once_per_client_per_day(anon_client, other_client, model):
    repo, _ = model
    for _ in range(3):
        assert anon_client.get(url(path="config.json")).status_code == 200
    anon_client.head(url(path="model.safetensors"))  # HEAD never counts
    assert ModelRepo.objects.get(pk=repo.pk).downloads == 1
    other_client.get(url())
    assert ModelRepo.objects.get(pk=repo.pk).downloads == 2


def test_parse_range_edges():
    assert parse_range("bytes=0-0", 10) == (0, 0)
    assert parse_range("bytes=5-100", 10) == (5, 9)
    assert parse_range("bytes=0-1,3-4", 10) is None
    assert parse_range("bytes=-0", 10) is False
    assert parse_range("bytes=9-3", 10) is False


def test_quoted_revision_stays_one_segment():
    resolve = next(route for route in BYTES_ROUTES if route.name == "resolve")
    scope = {"method": "GET", "path": "/alice/tiny/resolve/refs/pr/1/sub/config.json"}
    scope["raw_path"] = b"/alice/tiny/resolve/refs%2Fpr%2F1/sub/config.json"
    found = {"owner": "alice", "name": "tiny", "rev": "refs/pr/1", "path": "sub/config.json", "repo_type": "model"}
    assert resolve.match(scope) == found
    datasets = next(route for route in BYTES_ROUTES if route.name == "dataset_resolve")
    assert datasets.match(scope) is None
    scope = {"method": "GET", "path": "/datasets/alice/tiny/resolve/refs/pr/1/sub/config.json"}
    scope["raw_path"] = b"/datasets/alice/tiny/resolve/refs%2Fpr%2F1/sub/config.json"
    assert datasets.match(scope) == {**found, "repo_type": "dataset"}


def test_last_30_days_and_pruning(owner):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from models_app.engagement.download_counts import download_count, downloads_last_days

    repo, _ = publish(owner, "counted", {"config.json": b"{}"})
    today = timezone.now().date()
    assert download_count(repo.pk, "client-a", today)
    assert not download_count(repo.pk, "client-a", today)
    assert download_count(repo.pk, "client-a", today - timedelta(days=40))
    assert downloads_last_days(repo.pk, 30) == 1
    call_command("prune_downloads", verbosity=0)
    repo.refresh_from_db()
    assert repo.downloads == 2  # all-time survives the pruning
    assert downloads_last_days(repo.pk, 365) == 1


def test_renamed_repo_redirects_downloads_and_api(anon_client, owner, model):
    from models_app.repos.rules import repo_rename

    repo, _ = model
    repo_rename(owner, repo, "tiny-renamed")
    moved = anon_client.head(url())
    assert moved.status_code == 307
    assert moved["Location"] == "/alice/tiny-renamed/resolve/main/model.safetensors"
    api = anon_client.get("/api/models/alice/tiny/revision/v1")
    assert api.status_code == 307 and api["Location"] == "/api/models/alice/tiny-renamed/revision/v1"


@pytest.mark.parametrize(
    "header, status, body",
    [
        ("bytes=" + "9" * 5000 + "-", 416, b""),  # starts past the end
        ("bytes=0-" + "9" * 5000, 206, WEIGHTS),  # ends past the end: up to the last byte
        ("bytes=-" + "9" * 5000, 206, WEIGHTS),  # a suffix longer than the file: all of it
        ("bytes=" + "0" * 5000 + "5-9", 206, WEIGHTS[5:10]),  # leading zeros are still a small number
    ],
)
def test_ranges_with_huge_numbers_get_a_clean_answer(anon_client, model, header, status, body):
    response = anon_client.get(url(), HTTP_RANGE=header)
    assert response.status_code == status
    if status == 206:
        assert b"".join(response.streaming_content) == body
    else:
        assert response["Content-Range"] == f"bytes */{len(WEIGHTS)}"
