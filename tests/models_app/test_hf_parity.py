"""Hugging Face API parity (#19): branches, paths-info, gated downloads, preupload's shouldIgnore."""

from __future__ import annotations

from models_app.models import Ref
from models_app.repos.blobs import git_blob_sha1
from models_app.repos.initial import GITATTRIBUTES
from models_app.repos.rules import repo_create
from tests.models_app.test_hf_commits import add, b64, commit


def main_sha() -> str:
    return Ref.objects.get(name="main", kind=Ref.Kind.BRANCH).revision.sha


def test_branch_create_commit_and_delete(owner, write_client, other_client):
    repo_create(owner, "m")
    start = main_sha()
    created = write_client.post("/api/models/alice/m/branch/dev", {}, format="json")
    assert created.status_code == 200 and created.json() == {"branch": "dev", "sha": start}
    again = write_client.post("/api/models/alice/m/branch/dev", {}, format="json")
    assert again.status_code == 409
    assert other_client.post("/api/models/alice/m/branch/x", {}, format="json").status_code == 403
    # A commit to the branch moves it, not main.
    assert commit(write_client, "alice/m", add("a.txt", b"a"), rev="dev").status_code == 200
    assert main_sha() == start
    tree = write_client.get("/api/models/alice/m/tree/dev").json()
    assert [entry["path"] for entry in tree] == [".gitattributes", "a.txt"]
    # main is protected; a deleted branch takes no more commits.
    assert write_client.delete("/api/models/alice/m/branch/main").status_code == 403
    assert write_client.delete("/api/models/alice/m/branch/dev").status_code == 200
    gone = commit(write_client, "alice/m", add("b.txt", b"b"), rev="dev")
    assert gone.status_code == 404 and gone["X-Error-Code"] == "RevisionNotFound"
    assert write_client.delete("/api/models/alice/m/branch/dev").status_code == 404


def test_paths_info_names_files_and_folders_for_a_read_token(owner, write_client, read_client):
    repo_create(owner, "m")
    assert commit(write_client, "alice/m", add("sub/a.txt", b"a"), add("config.json", b"{}")).status_code == 200
    # huggingface_hub's get_paths_info posts a form: paths repeated, expand.
    response = read_client.post(
        "/api/models/alice/m/paths-info/main", {"paths": ["config.json", "sub", "nope.txt", ".gitattributes"]}
    )
    assert response.status_code == 200, response.json()
    entries = {entry["path"]: entry for entry in response.json()}
    assert set(entries) == {".gitattributes", "config.json", "sub"}  # a path that names nothing is left out
    assert entries["config.json"]["type"] == "file" and entries["config.json"]["oid"] == git_blob_sha1(b"{}")
    assert entries[".gitattributes"]["oid"] == git_blob_sha1(GITATTRIBUTES)
    assert entries["sub"]["type"] == "directory"


def test_a_gated_repo_refuses_files_until_access_is_granted(owner, other_user, write_client, other_client, anon_client):
    repo_create(owner, "gated")
    commit(write_client, "alice/gated", add("config.json", b"{}"), add("README.md", b"# Gated\n"))
    assert write_client.put("/api/models/alice/gated/settings", {"gated": "manual"}, format="json").status_code == 200
    refused = other_client.get("/alice/gated/resolve/main/config.json")
    assert refused.status_code == 403 and refused["X-Error-Code"] == "GatedRepo"
    assert anon_client.get("/alice/gated/resolve/main/config.json")["X-Error-Code"] == "GatedRepo"
    # Every file is gated, the card too, as on the HF hub (the model page shows the card from the database).
    assert other_client.get("/alice/gated/resolve/main/README.md")["X-Error-Code"] == "GatedRepo"
    # Bob asks; a manual gate leaves him pending until alice answers.
    asked = other_client.post("/api/models/alice/gated/ask-access", {}, format="json")
    assert asked.status_code == 200 and asked.json()["status"] == "pending"
    assert other_client.get("/alice/gated/resolve/main/config.json").status_code == 403
    pending = write_client.get("/api/models/alice/gated/user-access-request/pending").json()
    assert [row["user"]["user"] for row in pending] == ["bob"]
    answered = write_client.post(
        "/api/models/alice/gated/user-access-request/handle", {"user": "bob", "status": "accepted"}, format="json"
    )
    assert answered.status_code == 200
    allowed = other_client.get("/alice/gated/resolve/main/config.json")
    assert allowed.status_code == 200 and b"".join(allowed.streaming_content) == b"{}"


def test_preupload_marks_what_a_gitignore_leaves_out(owner, write_client):
    repo_create(owner, "m")
    files = [{"path": p, "sample": b64(b"x"), "size": 1} for p in ("train.log", "logs/a.txt", "config.json")]
    sent = write_client.post(
        "/api/models/alice/m/preupload/main", {"files": files, "gitIgnore": "*.log\nlogs/\n"}, format="json"
    )
    assert sent.status_code == 200
    ignored = {f["path"]: f["shouldIgnore"] for f in sent.json()["files"]}
    assert ignored == {"train.log": True, "logs/a.txt": True, "config.json": False}
    # Without gitIgnore in the request, the branch's own .gitignore applies.
    assert commit(write_client, "alice/m", add(".gitignore", b"*.log\n")).status_code == 200
    own = write_client.post("/api/models/alice/m/preupload/main", {"files": files}, format="json")
    assert {f["path"]: f["shouldIgnore"] for f in own.json()["files"]} == {
        "train.log": True,
        "logs/a.txt": False,
        "config.json": False,
    }
