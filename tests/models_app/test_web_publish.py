"""Website publishing: new model form, upload page (no-JS path), revision pages, settings."""

from __future__ import annotations

import pytest
from django.test import Client

from models_app.models import ModelRepo, Revision
from models_app.repos.rules import repo_create
from tests.initial_commit import uploaded_revisions
from tests.models_app.multipart_body import CONTENT_TYPE, multipart

FILES = {"config.json": b"{}", "model.safetensors": b"weights" * 10, "tokenizer/vocab.txt": b"[PAD]\n"}


@pytest.fixture
def alice(client, owner) -> Client:
    client.force_login(owner)
    return client


@pytest.fixture
def bob(other_user) -> Client:
    client = Client()
    client.force_login(other_user)
    return client


def post_upload(client, repo_id: str, files, **fields):
    return client.post(f"/{repo_id}/upload", data=multipart(files, **fields), content_type=CONTENT_TYPE)


def test_create_a_model_on_the_website_and_upload_three_files(alice):
    page = alice.get("/new")
    assert page.status_code == 200 and b'name="name"' in page.content
    response = alice.post("/new", {"name": "tiny-bert", "license": "mit", "pipeline_tag": "fill-mask", "tags": "a, b"})
    assert response.status_code == 302 and response["Location"] == "/alice/tiny-bert/upload"
    repo = ModelRepo.objects.get()
    assert (repo.license, repo.pipeline_tag, repo.tags, repo.private) == ("mit", "fill-mask", ["a", "b"], False)
    page = alice.get("/alice/tiny-bert/upload")
    assert page.status_code == 200 and b"webkitdirectory" in page.content and b"js/upload.js" in page.content
    response = post_upload(alice, "alice/tiny-bert", FILES, message="Add weights")
    revision = uploaded_revisions().get()
    assert response.status_code == 302 and response["Location"] == f"/alice/tiny-bert/commit/{revision.sha}"
    page = alice.get(response["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    assert "Add weights" in text and "alice" in text and "3 changed files" in text
    assert "tokenizer/vocab.txt" in text and "added" in text


def test_new_model_form_shows_errors(alice, owner):
    repo_create(owner, "taken")
    response = alice.post("/new", {"name": "Taken"})
    assert response.status_code == 409 and b"already have a model" in response.content
    response = alice.post("/new", {"name": "-bad"})
    assert response.status_code == 400 and b"not a valid model name" in response.content


def test_upload_page_shows_a_readable_error(alice, owner):
    repo_create(owner, "m")
    response = post_upload(alice, "alice/m", {"../x.txt": b"x"})
    assert response.status_code == 400 and b"&#x27;..&#x27; is not allowed" in response.content
    response = post_upload(alice, "alice/m", {"README.md": b"---\nlicense: nope\n---\n# x\n"})
    assert response.status_code == 422 and b"not a known license id" in response.content
    assert uploaded_revisions().count() == 0


def test_upload_needs_the_csrf_token(owner):
    repo_create(owner, "m")
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = post_upload(client, "alice/m", FILES)
    assert response.status_code == 403 and b"CSRF" in response.content
    assert uploaded_revisions().count() == 0


def test_revisions_list_and_changed_files(alice, owner):
    repo_create(owner, "m")
    post_upload(alice, "alice/m", FILES, message="first")
    post_upload(alice, "alice/m", {"config.json": b'{"x": 1}', "extra.txt": b"e"}, message="second")
    page = alice.get("/alice/m/commits")
    text = page.content.decode()
    assert page.status_code == 200 and text.index("second") < text.index("first")
    counts = [cell.split("<")[0] for cell in text.split('<td class="num">')[1:]]
    assert counts == ["2", "3", "1"]  # the initial commit holds .gitattributes
    second = Revision.objects.get(message="second")
    detail = alice.get(f"/alice/m/commit/{second.sha}").content.decode()
    assert "modified" in detail and "extra.txt" in detail and "model.safetensors" not in detail


def test_private_repo_pages_are_404_to_others_and_visible_to_the_owner(alice, bob, client, owner):
    repo_create(owner, "secret", private=True)
    post_upload(alice, "alice/secret", FILES)
    sha = uploaded_revisions().get().sha
    for url in (
        "/alice/secret/commits",
        f"/alice/secret/commit/{sha}",
        "/alice/secret/upload",
        "/alice/secret/settings",
    ):
        assert alice.get(url).status_code == 200, url
        assert bob.get(url).status_code == 404, url
    anon = Client()
    assert anon.get("/alice/secret/commits").status_code == 404
    assert bob.get("/api/models/alice/secret/upload").status_code in (404, 405)


def test_settings_are_owner_only(bob, owner):
    repo_create(owner, "m")
    assert bob.get("/alice/m/settings").status_code == 403
    assert bob.post("/alice/m/settings", {"action": "delete", "confirm": "alice/m"}).status_code == 403
    assert ModelRepo.objects.exists()


def test_settings_visibility_rename_and_delete(alice, owner):
    repo_create(owner, "m")
    response = alice.post("/alice/m/settings", {"action": "visibility", "private": "on"})
    assert response.status_code == 302 and ModelRepo.objects.get().private
    response = alice.post("/alice/m/settings", {"action": "rename", "new_name": "m2"})
    assert response["Location"] == "/alice/m2/settings"
    assert alice.get("/alice/m/commits")["Location"] == "/alice/m2/commits"
    response = alice.post("/alice/m2/settings", {"action": "delete", "confirm": "alice/m"})
    assert response.status_code == 400 and b"to confirm" in response.content and ModelRepo.objects.exists()
    response = alice.post("/alice/m2/settings", {"action": "delete", "confirm": "alice/m2"})
    assert response.status_code == 302 and not ModelRepo.objects.exists()
