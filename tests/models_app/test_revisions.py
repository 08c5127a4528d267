"""Revisions: one transaction, content-derived shas, no-op uploads, stale parents, deletes, tags."""

from __future__ import annotations

import pytest

from models_app.models import Ref, Revision
from models_app.publish.uploads import Ingest
from models_app.repos import events
from models_app.repos.initial import INITIAL_MESSAGE
from models_app.repos.revisions import RevisionError, manifest_of, resolve_revision, revision_create, tag_create
from models_app.repos.rules import repo_create


def upload(repo, author, files: dict[str, bytes], **kwargs):
    ingest = Ingest(repo)
    blobs = {path: ingest.add(path, [data]) for path, data in files.items()}
    return revision_create(repo, author=author, message=kwargs.pop("message", "upload"), add=blobs, **kwargs)


FILES = {"config.json": b'{"model_type": "bert"}', "model.safetensors": b"weights", "tokenizer/vocab.txt": b"[PAD]\n"}


def test_upload_creates_a_revision_and_moves_main(owner):
    repo = repo_create(owner, "tiny-bert")
    result = upload(repo, owner, FILES)
    assert result.created and len(result.revision.sha) == 40
    assert Ref.objects.get(repo=repo, name="main").revision == result.revision
    # on top of the initial commit every new repo starts with (models_app/repos/initial.py)
    assert result.revision.parent.message == INITIAL_MESSAGE
    assert set(manifest_of(result.revision)) == {*FILES, ".gitattributes"}


def test_same_upload_again_creates_no_revision(owner):
    repo = repo_create(owner, "tiny-bert")
    first = upload(repo, owner, FILES)
    again = upload(repo, owner, FILES)
    assert again.created is False and again.revision == first.revision
    assert Revision.objects.filter(repo=repo).count() == 2  # the initial commit and the upload


def test_sha_depends_on_content_and_parent(owner, other_user):
    a = upload(repo_create(owner, "a"), owner, FILES).revision
    b = upload(repo_create(other_user, "b"), other_user, FILES).revision
    assert a.sha == b.sha  # same files, no parent: same sha
    changed = upload(a.repo, owner, {"config.json": b"{}"}).revision
    assert changed.sha != a.sha and changed.parent == a


def test_stale_parent_is_refused_with_412(owner):
    repo = repo_create(owner, "m")
    first = upload(repo, owner, FILES).revision
    upload(repo, owner, {"extra.txt": b"x"})
    with pytest.raises(RevisionError) as excinfo:
        upload(repo, owner, {"late.txt": b"y"}, parent_sha=first.sha)
    assert excinfo.value.status_code == 412


def test_deleting_files_makes_a_new_revision(owner):
    repo = repo_create(owner, "m")
    first = upload(repo, owner, FILES).revision
    result = revision_create(repo, author=owner, message="drop tokenizer", delete_folders=["tokenizer"])
    assert result.created and "tokenizer/vocab.txt" not in manifest_of(result.revision)
    assert "tokenizer/vocab.txt" in manifest_of(first)  # the old revision is untouched
    with pytest.raises(RevisionError) as excinfo:
        revision_create(repo, author=owner, message="x", delete=["nope.txt"])
    assert excinfo.value.status_code == 404


def test_revisions_resolve_by_branch_tag_and_sha(owner):
    repo = repo_create(owner, "m")
    first = upload(repo, owner, FILES).revision
    tag_create(repo, "v1.0", first)
    second = upload(repo, owner, {"more.txt": b"x"}).revision
    assert resolve_revision(repo, "main") == second
    assert resolve_revision(repo, "v1.0") == first
    assert resolve_revision(repo, first.sha) == first
    with pytest.raises(RevisionError) as excinfo:
        resolve_revision(repo, "nope")
    assert excinfo.value.status_code == 404 and excinfo.value.error_code == "RevisionNotFound"


def test_revision_is_announced_only_after_commit(owner, django_capture_on_commit_callbacks):
    seen = []

    def receiver(sender, revision, **kwargs):
        seen.append(revision.sha)

    events.revision_created.connect(receiver)
    try:
        repo = repo_create(owner, "m")
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            result = upload(repo, owner, FILES)
        assert seen == [] and len(callbacks) == 1
        callbacks[0]()
        assert seen == [result.revision.sha]
    finally:
        events.revision_created.disconnect(receiver)


def test_repo_names_are_unique_per_owner_ignoring_case(owner):
    repo_create(owner, "Tiny-BERT")
    with pytest.raises(Exception) as excinfo:
        repo_create(owner, "tiny-bert")
    assert excinfo.value.status_code == 409
    with pytest.raises(Exception) as excinfo:
        repo_create(owner, ".hidden")
    assert excinfo.value.status_code == 400
