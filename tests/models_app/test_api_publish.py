"""The native publishing API through Django (the DRF view the streaming front stands in front of)."""

from __future__ import annotations

import hashlib

import pytest

from models_app.models import ModelRepo, Ref, Revision
from models_app.repos.rules import repo_create, repo_delete
from tests.initial_commit import GITATTRIBUTES_SHA256, uploaded_blobs, uploaded_files, uploaded_revisions
from tests.models_app.multipart_body import CONTENT_TYPE, multipart

FILES = {
    "config.json": b'{"model_type": "bert", "hidden_size": 8}',
    "model.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{}      " + b"\x00" * 64,
    "tokenizer/vocab.txt": b"[PAD]\n[UNK]\nhello\n",
}


def upload(client, repo_id: str, files: dict[str, bytes], **fields):
    return client.post(f"/api/models/{repo_id}/upload", data=multipart(files, **fields), content_type=CONTENT_TYPE)


def stored_blobs(settings) -> list:
    return [p for p in settings.BLOB_DIR.rglob("*") if p.is_file()] if settings.BLOB_DIR.exists() else []


def test_create_then_upload_three_files(write_client, owner):
    created = write_client.post(
        "/api/models", {"name": "tiny-bert", "license": "apache-2.0", "pipeline_tag": "fill-mask"}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["id"] == "alice/tiny-bert" and created.json()["license"] == "apache-2.0"
    response = upload(write_client, "alice/tiny-bert", FILES, message="First weights")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created"] is True and len(body["sha"]) == 40
    assert body["commit_url"] == f"/alice/tiny-bert/commit/{body['sha']}"
    assert {f["path"]: f["sha256"] for f in body["manifest"]} == {
        ".gitattributes": GITATTRIBUTES_SHA256,  # from the repo's initial commit
        **{path: hashlib.sha256(data).hexdigest() for path, data in FILES.items()},
    }
    revision = Revision.objects.get(sha=body["sha"])
    assert revision.message == "First weights" and revision.author == owner


def test_same_upload_again_creates_no_revision(write_client, owner):
    repo_create(owner, "m")
    first = upload(write_client, "alice/m", FILES).json()
    again = upload(write_client, "alice/m", FILES)
    assert again.status_code == 200
    assert again.json()["created"] is False and again.json()["sha"] == first["sha"]
    assert "Nothing changed" in again.json()["message"]
    assert uploaded_revisions().count() == 1


def test_two_repos_with_the_same_weights_store_one_blob(write_client, other_client, owner, other_user, settings):
    repo_create(owner, "a")
    repo_create(other_user, "b")
    assert upload(write_client, "alice/a", {"model.safetensors": FILES["model.safetensors"]}).status_code == 201
    assert upload(other_client, "bob/b", {"model.safetensors": FILES["model.safetensors"]}).status_code == 201
    assert uploaded_blobs().count() == 1 and len(uploaded_files(settings.BLOB_DIR)) == 1


@pytest.mark.parametrize(
    "path, message",
    [
        ("/etc/passwd", "absolute paths"),
        ("../escape.txt", "'..'"),
        ("dir\\file.txt", "backslashes"),
        ("nul\x00.txt", "control characters"),
        ("bell\x07.txt", "control characters"),
        (".git/config", "'.git'"),
        ("x" * 256, "255 bytes"),
    ],
)
def test_bad_paths_are_refused_and_nothing_is_stored(write_client, owner, settings, path, message):
    repo_create(owner, "m")
    response = upload(write_client, "alice/m", {"ok.txt": b"fine", path: b"evil"})
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert uploaded_revisions().count() == 0
    assert list(settings.UPLOAD_TMP_DIR.iterdir()) == []


def test_duplicate_paths_in_one_upload_are_refused(write_client, owner):
    repo_create(owner, "m")
    body = multipart({"a.txt": b"1"}).replace(b"--thub-test-boundary-7d1c--\r\n", b"")
    body += multipart({"a.txt": b"2"})
    response = write_client.post("/api/models/alice/m/upload", data=body, content_type=CONTENT_TYPE)
    assert response.status_code == 400 and "twice" in response.json()["error"]
    assert uploaded_revisions().count() == 0


def test_sha256_is_checked(write_client, owner):
    repo_create(owner, "m")
    good = hashlib.sha256(b"abc").hexdigest()
    response = upload(write_client, "alice/m", {"a.txt": b"abc"}, **{"sha256:a.txt": good})
    assert response.status_code == 201
    response = upload(write_client, "alice/m", {"b.txt": b"abc"}, **{"sha256:b.txt": "0" * 64})
    assert response.status_code == 422 and "sha256 mismatch" in response.json()["error"]


def test_size_and_quota_limits(write_client, owner, settings):
    repo_create(owner, "m")
    settings.HUB_MAX_FILE_SIZE = 10
    response = upload(write_client, "alice/m", {"big.bin": b"x" * 11})
    assert response.status_code == 413 and "limit per file" in response.json()["error"]
    settings.HUB_MAX_FILE_SIZE = 10**9
    settings.HUB_REPO_QUOTA = 1000
    response = upload(write_client, "alice/m", {"big.bin": b"x" * 20_000})
    # Refused from Content-Length alone, before the body is read.
    assert response.status_code == 413 and "storage quota" in response.json()["error"]
    assert uploaded_revisions().count() == 0 and list(settings.UPLOAD_TMP_DIR.iterdir()) == []


def test_who_may_upload(write_client, read_client, other_client, anon_client, owner):
    repo_create(owner, "public-m")
    repo_create(owner, "secret", private=True)
    assert upload(anon_client, "alice/public-m", FILES).status_code == 401
    response = upload(read_client, "alice/public-m", FILES)
    assert response.status_code == 403 and "read-only" in response.json()["error"]
    assert upload(other_client, "alice/public-m", FILES).status_code == 403
    assert upload(other_client, "alice/secret", FILES).status_code == 404
    assert upload(write_client, "alice/nope", FILES).status_code == 404
    assert upload(write_client, "alice/secret", FILES).status_code == 201


def test_create_errors(write_client, read_client, anon_client, owner):
    assert anon_client.post("/api/models", {"name": "x"}, format="json").status_code == 401
    assert read_client.post("/api/models", {"name": "x"}, format="json").status_code == 403
    bad = write_client.post("/api/models", {"name": ".hidden"}, format="json")
    assert bad.status_code == 400 and "not a valid model name" in bad.json()["error"]
    bad = write_client.post("/api/models", {"name": "m", "license": "free-as-in-beer"}, format="json")
    assert bad.status_code == 400 and "license" in bad.json()["error"]
    assert write_client.post("/api/models", {"name": "M"}, format="json").status_code == 201
    dup = write_client.post("/api/models", {"name": "m"}, format="json")
    assert dup.status_code == 409 and set(dup.json()) == {"error", "detail"}


def test_settings_patch_and_hf_put(write_client, other_client, owner):
    repo_create(owner, "m")
    response = write_client.patch("/api/models/alice/m/settings", {"private": True}, format="json")
    assert response.status_code == 200 and response.json()["private"] is True
    assert other_client.patch("/api/models/alice/m/settings", {"private": False}, format="json").status_code == 404
    # huggingface_hub's update_repo_settings(private=False) sends {"visibility": "public"}.
    response = write_client.put("/api/models/alice/m/settings", {"visibility": "public"}, format="json")
    assert response.status_code == 200 and ModelRepo.objects.get().private is False
    assert other_client.put("/api/models/alice/m/settings", {"private": True}, format="json").status_code == 403
    # Gated repos are supported now (models_app/repos/gating.py): "auto", "manual" or false.
    gated = write_client.put("/api/models/alice/m/settings", {"gated": "auto"}, format="json")
    assert gated.status_code == 200 and ModelRepo.objects.get().gated == "auto"
    bad = write_client.put("/api/models/alice/m/settings", {"gated": "sometimes"}, format="json")
    assert bad.status_code == 400 and "'gated' must be" in bad.json()["error"]


def test_tag_a_revision_hf_shape(write_client, other_client, owner):
    repo_create(owner, "m")
    sha = upload(write_client, "alice/m", FILES).json()["sha"]
    response = write_client.post("/api/models/alice/m/tag/main", {"tag": "v1.0", "message": "first"}, format="json")
    assert response.status_code == 201 and response.json()["sha"] == sha
    assert Ref.objects.get(name="v1.0").revision.sha == sha
    again = write_client.post("/api/models/alice/m/tag/main", {"tag": "v1.0"}, format="json")
    assert again.status_code == 409
    assert write_client.post("/api/models/alice/m/tag/nope", {"tag": "v2"}, format="json").status_code == 404
    assert other_client.post("/api/models/alice/m/tag/main", {"tag": "v3"}, format="json").status_code == 403
    assert write_client.delete("/api/models/alice/m/tag/v1.0").status_code == 204


def test_rename_redirects_old_urls(write_client, owner, anon_client):
    repo_create(owner, "old-name")
    upload(write_client, "alice/old-name", FILES)
    response = write_client.patch("/api/models/alice/old-name/settings", {"name": "new-name"}, format="json")
    assert response.status_code == 200 and response.json()["id"] == "alice/new-name"
    page = anon_client.get("/alice/old-name/commits?page=1")
    assert page.status_code == 302 and page["Location"] == "/alice/new-name/commits?page=1"
    # Uploads to the old name still land (no redirect: that would make the client send the body twice).
    assert upload(write_client, "alice/old-name", {"more.txt": b"x"}).status_code == 201
    # A new repo under the old name takes it back.
    repo_create(owner, "old-name")
    assert anon_client.get("/alice/old-name/commits").status_code == 200


def test_private_redirect_does_not_leak(write_client, owner, anon_client):
    repo_create(owner, "hidden", private=True)
    write_client.patch("/api/models/alice/hidden/settings", {"name": "hidden2"}, format="json")
    assert anon_client.get("/alice/hidden/commits").status_code == 404


def test_repo_delete_owner_only(write_client, owner, other_user):
    repo = repo_create(owner, "m")
    upload(write_client, "alice/m", FILES)
    upload(write_client, "alice/m", {"more.txt": b"x"})
    with pytest.raises(Exception) as excinfo:
        repo_delete(other_user, repo)
    assert excinfo.value.status_code == 403
    repo_delete(owner, repo)
    assert not ModelRepo.objects.exists() and not Revision.objects.exists()


def test_other_methods_on_the_collection_are_not_shadowed(write_client):
    response = write_client.get("/api/models")
    # The listing belongs to the browsing routes; without one, a JSON 405 (never a 500).
    assert response.status_code in (200, 405)
    if response.status_code == 405:
        assert set(response.json()) == {"error", "detail"}


def test_card_errors_come_back_to_the_uploader(write_client, owner):
    repo_create(owner, "carded")
    response = upload(write_client, "alice/carded", {"README.md": b"---\npipeline_tag: telepathy\n---\n# x\n"})
    assert response.status_code == 422
    assert "not a known task" in response.json()["error"]
    assert response.json()["detail"]["errors"] and uploaded_revisions().count() == 0
    good = b"---\nlicense: mit\npipeline_tag: fill-mask\n---\n# x\n"
    response = upload(write_client, "alice/carded", {"README.md": good})
    assert response.status_code == 201 and any("almost no text" in w for w in response.json()["warnings"])
    assert ModelRepo.objects.get(name="carded").pipeline_tag == "fill-mask"


@pytest.mark.parametrize(
    "body, content_type, status, message",
    [
        (multipart({"a.txt": b"abc"})[:-12], CONTENT_TYPE, 400, "ended before its closing boundary"),
        (
            b"--thub-test-boundary-7d1c\r\nX-Nothing: 1\r\n\r\nzz\r\n--thub-test-boundary-7d1c--\r\n",
            CONTENT_TYPE,
            400,
            "Content-Disposition",
        ),
        (b"--thub-test-boundary-7d1c\r\n" + b"X: " + b"y" * 20000, CONTENT_TYPE, 400, "headers are too long"),
        (multipart({}, message="only a message"), CONTENT_TYPE, 400, "no files"),
        (b'{"a": 1}', "application/json", 415, "multipart/form-data"),
        (multipart({"a.txt": b"x"}), "multipart/form-data", 400, "no boundary"),
        (multipart({"a.txt": b"x"}, **{"sha256:a.txt": "xyz"}), CONTENT_TYPE, 400, "64 hex"),
    ],
)
def test_malformed_uploads_get_a_clear_4xx(write_client, owner, settings, body, content_type, status, message):
    repo_create(owner, "m")
    response = write_client.post("/api/models/alice/m/upload", data=body, content_type=content_type)
    assert response.status_code == status and message in response.json()["error"]
    assert uploaded_revisions().count() == 0 and list(settings.UPLOAD_TMP_DIR.iterdir()) == []


def test_stale_parent_commit_is_refused(write_client, owner):
    repo_create(owner, "m")
    first = upload(write_client, "alice/m", {"a.txt": b"1"}).json()["sha"]
    upload(write_client, "alice/m", {"b.txt": b"2"})
    response = upload(write_client, "alice/m", {"c.txt": b"3"}, parent_commit=first)
    assert response.status_code == 412 and "not the tip" in response.json()["error"]


@pytest.mark.parametrize("tags", [["ok", {"not": "a string"}], ["x" * 65]])
def test_a_bad_tag_is_a_400_naming_it(write_client, owner, tags):
    repo_create(owner, "m")
    for response in (
        write_client.post("/api/models", {"name": "n", "tags": tags}, format="json"),
        write_client.put("/api/models/alice/m/settings", {"tags": tags}, format="json"),
    ):
        assert response.status_code == 400
        assert response.json()["error"].startswith("tags: ") and "ErrorDetail" not in response.json()["error"]
