"""Dataset repos beside models: the native API, the website, access and validation, through Django.

The Hugging Face client's calls are in ``test_datasets_hf_live.py``.
"""

from __future__ import annotations

import pytest
from django.test import Client

from models_app.models import ModelRepo
from models_app.repos.rules import DATASET, MODEL, repo_create
from models_app.validation.models import ValidationRun
from tests.models_app.multipart_body import CONTENT_TYPE, multipart

CSV = b"text,label\ngreat film,pos\ndull plot,neg\n"


@pytest.fixture
def alice_web(owner) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def bob_web(other_user) -> Client:
    client = Client()
    client.force_login(other_user)
    return client


def upload(client, api: str, files: dict[str, bytes]):
    return client.post(f"{api}/upload", data=multipart(files, message="Add data"), content_type=CONTENT_TYPE)


def test_create_upload_list_and_info_through_the_native_api(write_client, anon_client):
    created = write_client.post("/api/datasets", {"name": "reviews"}, format="json")
    assert created.status_code == 201
    assert created.json()["type"] == "dataset" and created.json()["url"] == "/datasets/alice/reviews"
    response = upload(write_client, "/api/datasets/alice/reviews", {"data.csv": CSV})
    assert response.status_code == 201 and response.json()["commit_url"].startswith("/datasets/alice/reviews/commit/")
    info = anon_client.get("/api/datasets/alice/reviews").json()
    # every repo starts with .gitattributes (its initial commit), as on the HF hub
    assert info["id"] == "alice/reviews" and [s["rfilename"] for s in info["siblings"]] == [
        ".gitattributes",
        "data.csv",
    ]
    assert [row["id"] for row in anon_client.get("/api/datasets").json()] == ["alice/reviews"]
    assert anon_client.get("/api/models").json() == []
    assert anon_client.get("/api/models/alice/reviews").status_code == 401  # anonymous: as for a private model
    tree = anon_client.get("/api/datasets/alice/reviews/tree/main").json()
    assert [entry["path"] for entry in tree] == [".gitattributes", "data.csv"]
    assert anon_client.get("/datasets/alice/reviews/resolve/main/data.csv").getvalue() == CSV


def test_a_model_and_a_dataset_may_share_a_name_but_not_two_datasets(owner, write_client):
    model = repo_create(owner, "foo")
    dataset = repo_create(owner, "foo", repo_type=DATASET)
    assert (model.repo_type, dataset.repo_type, model.repo_id, dataset.repo_id) == (
        MODEL,
        DATASET,
        "alice/foo",
        "alice/foo",
    )
    assert (model.url_prefix, dataset.url_prefix, dataset.is_dataset) == ("", "/datasets", True)
    again = write_client.post("/api/datasets", {"name": "FOO"}, format="json")
    assert again.status_code == 409 and "dataset" in again.json()["error"]
    upload(write_client, "/api/models/alice/foo", {"config.json": b"{}"})
    upload(write_client, "/api/datasets/alice/foo", {"data.csv": CSV})
    siblings = {kind: write_client.get(f"/api/{kind}/alice/foo").json()["siblings"] for kind in ("models", "datasets")}
    assert [s["rfilename"] for s in siblings["models"]] == [".gitattributes", "config.json"]
    assert [s["rfilename"] for s in siblings["datasets"]] == [".gitattributes", "data.csv"]


def test_uploading_a_dataset_queues_no_validation(owner, write_client, django_capture_on_commit_callbacks):
    repo_create(owner, "tiny")
    repo_create(owner, "reviews", repo_type=DATASET)
    with django_capture_on_commit_callbacks(execute=True):
        assert upload(write_client, "/api/datasets/alice/reviews", {"data.csv": CSV}).status_code == 201
        assert upload(write_client, "/api/models/alice/tiny", {"config.json": b"{}"}).status_code == 201
    runs = ValidationRun.objects.values_list("revision__repo__repo_type", flat=True)
    assert list(runs) == [MODEL]


def test_a_private_dataset_is_not_found_for_others(owner, write_client, other_client, anon_client, alice_web, bob_web):
    repo_create(owner, "secret", private=True, repo_type=DATASET)
    assert upload(write_client, "/api/datasets/alice/secret", {"data.csv": CSV}).status_code == 201
    for client, missing in ((other_client, 404), (anon_client, 401)):
        response = client.get("/api/datasets/alice/secret")
        assert response.status_code == missing and response["X-Error-Code"] == "RepoNotFound"
        assert client.get("/datasets/alice/secret/resolve/main/data.csv").status_code == missing
        assert client.get("/api/datasets", {"author": "alice"}).json() == []
    for path in ("/datasets/alice/secret", "/datasets/alice/secret/tree/main", "/datasets/alice/secret/commits"):
        assert alice_web.get(path).status_code == 200
        assert bob_web.get(path).status_code == 404
        assert Client().get(path).status_code == 404
    assert b"secret" not in bob_web.get("/alice").content and b"secret" not in bob_web.get("/datasets").content


def test_dataset_pages_for_the_owner(owner, alice_web, write_client):
    repo_create(owner, "tiny")
    repo_create(owner, "reviews", repo_type=DATASET)
    upload(write_client, "/api/datasets/alice/reviews", {"data.csv": CSV})
    page = alice_web.get("/datasets/alice/reviews").content.decode()
    assert "Dataset card" in page and "/datasets/alice/reviews/tree/main" in page
    assert "/validation" not in page and "/discussion" not in page
    files = alice_web.get("/datasets/alice/reviews/tree/main").content.decode()
    assert "data.csv" in files and "/datasets/alice/reviews/resolve/" in files
    assert alice_web.get("/datasets/alice/reviews/upload").status_code == 200
    assert alice_web.get("/datasets/alice/reviews/settings").status_code == 200
    listing = alice_web.get("/datasets").content.decode()
    assert 'href="/datasets/alice/reviews"' in listing and "alice/tiny" not in listing
    profile = alice_web.get("/alice").content.decode()
    models, datasets = profile.split("<h2>Datasets</h2>")[0], profile.split("<h2>Datasets</h2>")[1]
    assert 'href="/alice/tiny"' in models and 'href="/datasets/alice/reviews"' in datasets.split("<h2>")[0]


def test_new_dataset_on_the_website_and_upload(alice_web):
    form = alice_web.get("/new?type=dataset").content.decode()
    assert 'value="dataset" checked' in form
    response = alice_web.post("/new", {"name": "reviews", "type": "dataset"})
    assert response.status_code == 302 and response["Location"] == "/datasets/alice/reviews/upload"
    assert ModelRepo.objects.get().repo_type == DATASET
    posted = alice_web.post(
        "/datasets/alice/reviews/upload", data=multipart({"data.csv": CSV}, message="Add"), content_type=CONTENT_TYPE
    )
    assert posted.status_code == 302 and posted["Location"].startswith("/datasets/alice/reviews/commit/")
    assert alice_web.get(posted["Location"]).status_code == 200


def test_the_schema_documents_the_dataset_api(anon_client):
    paths = anon_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    for path in ("/api/datasets", "/api/datasets/{owner}/{name}", "/api/datasets/{owner}/{name}/upload/"):
        assert path in paths
    assert paths["/api/datasets"]["get"]["operationId"] == "datasets_list"
    assert paths["/api/datasets/{owner}/{name}"]["get"]["operationId"] == "dataset_info"


@pytest.mark.parametrize("name", ["upload", "commits", "validation", "discussion"])
def test_a_dataset_named_like_a_page_has_its_own_page(owner, alice_web, name):
    repo = repo_create(owner, name, repo_type=DATASET)
    page = alice_web.get(f"/datasets/alice/{name}")
    assert page.status_code == 200, page.content[:300]
    assert f'alice</a> / <a href="{repo.web_path}">{name}</a>' in page.content.decode()
    assert alice_web.get(f"/datasets/alice/{name}/settings").status_code == 200
