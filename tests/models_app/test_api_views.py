"""The read API: list (filters, sorts, cursor pages), model info, tree, refs, commits, likes, delete."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hub.models import User
from models_app.models import ModelRepo
from tests.models_app.reuse_helpers import publish


@pytest.fixture
def catalog(owner, other_user):
    publish(
        owner,
        "bert-tiny",
        {"config.json": b"{}"},
        pipeline_tag="text-classification",
        library_name="transformers",
        license="mit",
        tags=["bert", "tiny"],
        languages=["en"],
        downloads=50,
        likes=1,
    )
    publish(
        owner,
        "gpt-small",
        {"config.json": b"{}"},
        pipeline_tag="text-generation",
        library_name="transformers",
        license="apache-2.0",
        tags=["gpt"],
        languages=["fr"],
        downloads=10,
        likes=5,
    )
    publish(
        other_user,
        "resnet",
        {"config.json": b"{}"},
        pipeline_tag="image-classification",
        library_name="timm",
        license="mit",
        tags=["vision"],
        downloads=30,
        likes=3,
    )
    publish(other_user, "hidden", {"config.json": b"{}"}, private=True, downloads=999)  # fmt: skip


def ids(response):
    return [row["id"] for row in response.json()]


def test_list_sorts_by_downloads_and_hides_private(anon_client, catalog):
    response = anon_client.get("/api/models")
    assert response.status_code == 200
    assert ids(response) == ["alice/bert-tiny", "bob/resnet", "alice/gpt-small"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("search=gpt", ["alice/gpt-small"]),
        ("author=bob", ["bob/resnet"]),
        ("filter=text-generation", ["alice/gpt-small"]),
        ("filter=vision", ["bob/resnet"]),
        ("pipeline_tag=text-classification", ["alice/bert-tiny"]),
        ("library=timm", ["bob/resnet"]),
        ("license=mit&sort=likes", ["bob/resnet", "alice/bert-tiny"]),
        ("language=fr", ["alice/gpt-small"]),
        ("sort=likes&direction=1", ["alice/bert-tiny", "bob/resnet", "alice/gpt-small"]),
        ("sort=createdAt", ["bob/resnet", "alice/gpt-small", "alice/bert-tiny"]),
    ],
)
def test_list_filters_and_sorts(anon_client, catalog, query, expected):
    assert ids(anon_client.get(f"/api/models?{query}")) == expected


def test_owner_sees_their_private_model(other_client, catalog):
    assert "bob/hidden" in ids(other_client.get("/api/models"))


def test_cursor_pages_follow_the_link_header(anon_client, catalog):
    first = anon_client.get("/api/models?limit=2")
    assert ids(first) == ["alice/bert-tiny", "bob/resnet"]
    link = first["Link"]
    assert link.endswith('>; rel="next"')
    second = anon_client.get(link[1 : link.index(">")])
    assert ids(second) == ["alice/gpt-small"]
    assert "Link" not in second


def test_bad_sort_and_cursor_are_400(anon_client, catalog):
    assert anon_client.get("/api/models?sort=stars").status_code == 400
    assert anon_client.get("/api/models?cursor=!!!").json()["error"].startswith("The cursor")


def test_list_query_count_is_constant(anon_client, owner):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert anon_client.get("/api/models?limit=100").status_code == 200
        return len(ctx)

    publish(owner, "m0", {"config.json": b"{}"})
    few = count()
    for i in range(1, 8):
        publish(owner, f"m{i}", {"config.json": b"{}"})
    assert count() == few


def test_model_info_shape(anon_client, owner):
    _, revision = publish(owner, "tiny", {"config.json": b"{}", "model.safetensors": b"x" * 100}, tags=["bert"])
    info = anon_client.get("/api/models/alice/tiny").json()
    assert info["id"] == "alice/tiny" and info["sha"] == revision.sha
    assert {s["rfilename"] for s in info["siblings"]} == {"config.json", "model.safetensors"}
    weights = next(s for s in info["siblings"] if s["rfilename"] == "model.safetensors")
    assert weights["size"] == 100 and weights["lfs"]["size"] == 100
    for key in ("private", "downloads", "likes", "tags", "pipeline_tag", "library_name", "cardData",
                "lastModified", "createdAt", "downloadsLast30Days"):  # fmt: skip
        assert key in info


def test_model_info_at_a_tag_and_unknown_revision(anon_client, owner):
    _, first = publish(owner, "tiny", {"config.json": b"{}"}, tag="v1")
    publish(owner, "tiny", {"extra.txt": b"more"})
    at_tag = anon_client.get("/api/models/alice/tiny/revision/v1").json()
    assert at_tag["sha"] == first.sha and len(at_tag["siblings"]) == 1
    missing = anon_client.get("/api/models/alice/tiny/revision/v9")
    assert missing.status_code == 404 and missing["X-Error-Code"] == "RevisionNotFound"


def test_missing_repo_errors_like_the_hf_hub(anon_client, other_client):
    anon = anon_client.get("/api/models/alice/nothing")
    assert anon.status_code == 401 and anon["X-Error-Code"] == "RepoNotFound"
    assert other_client.get("/api/models/alice/nothing").status_code == 404


def test_tree_lists_folders_files_and_pages(anon_client, owner):
    files = {"config.json": b"{}", "sub/a.txt": b"a", "sub/deeper/b.txt": b"bb"}
    _, revision = publish(owner, "tiny", files)
    top = anon_client.get("/api/models/alice/tiny/tree/main").json()
    assert [(e["type"], e["path"]) for e in top] == [("file", "config.json"), ("directory", "sub")]
    deep = anon_client.get("/api/models/alice/tiny/tree/main?recursive=true").json()
    assert {e["path"] for e in deep if e["type"] == "file"} == set(files)
    sub = anon_client.get("/api/models/alice/tiny/tree/main/sub?expand=true").json()
    a = next(e for e in sub if e["path"] == "sub/a.txt")
    assert a["size"] == 1 and a["lastCommit"]["id"] == revision.sha
    missing = anon_client.get("/api/models/alice/tiny/tree/main/nope")
    assert missing.status_code == 404 and missing["X-Error-Code"] == "EntryNotFound"


def test_last_commit_is_where_the_file_last_changed(anon_client, owner):
    _, first = publish(owner, "tiny", {"config.json": b"{}"})
    _, second = publish(owner, "tiny", {"other.txt": b"x"})
    tree = {e["path"]: e for e in anon_client.get("/api/models/alice/tiny/tree/main?expand=1").json()}
    assert tree["config.json"]["lastCommit"]["id"] == first.sha
    assert tree["other.txt"]["lastCommit"]["id"] == second.sha


def test_refs_and_commits(anon_client, owner):
    _, first = publish(owner, "tiny", {"config.json": b"{}"}, tag="v1")
    _, second = publish(owner, "tiny", {"b.txt": b"b"})
    refs = anon_client.get("/api/models/alice/tiny/refs").json()
    assert refs["branches"] == [{"name": "main", "ref": "refs/heads/main", "targetCommit": second.sha}]
    assert refs["tags"][0]["targetCommit"] == first.sha
    commits = anon_client.get("/api/models/alice/tiny/commits/main").json()
    assert [c["id"] for c in commits] == [second.sha, first.sha]
    assert commits[0]["authors"] == [{"user": "alice"}]
    assert "formatted" not in commits[0]
    formatted = anon_client.get("/api/models/alice/tiny/commits/main?expand[]=formatted").json()
    assert formatted[0]["formatted"]["title"] == commits[0]["title"].replace("<", "&lt;")


def test_like_and_unlike(other_client, anon_client, owner):
    publish(owner, "tiny", {"config.json": b"{}"})
    assert anon_client.post("/api/models/alice/tiny/like").status_code == 401
    assert other_client.post("/api/models/alice/tiny/like").json() == {"liked": True, "likes": 1}
    assert other_client.post("/api/models/alice/tiny/like").json()["likes"] == 1  # idempotent
    assert other_client.delete("/api/models/alice/tiny/like").json() == {"liked": False, "likes": 0}


def test_delete_needs_the_owner_and_a_write_token(write_client, read_client, other_client, owner):
    publish(owner, "tiny", {"config.json": b"{}"}, tag="v1")
    assert other_client.delete("/api/models/alice/tiny").status_code == 403
    assert read_client.delete("/api/models/alice/tiny").status_code == 403
    assert write_client.delete("/api/models/alice/tiny").status_code == 204
    assert not ModelRepo.objects.filter(name="tiny").exists()
    assert User.objects.filter(username="alice").exists()


def test_schema_documents_the_read_api(anon_client):
    schema = anon_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/models/{owner}/{name}/tree/{rest}" in schema["paths"]
