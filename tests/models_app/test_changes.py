"""What changed between two revisions: paths, sizes, hashes, small text diffs, the git-style patch, the bounds."""

from __future__ import annotations

import hashlib

import pytest
from django.template.loader import render_to_string

from models_app.publish.uploads import Ingest
from models_app.repos import changes as changes_mod
from models_app.repos.blobs import git_blob_sha1
from models_app.repos.changes import revision_changes, unified_patch
from models_app.repos.revisions import revision_create
from models_app.repos.rules import repo_create

pytestmark = pytest.mark.django_db

CONFIG_OLD = b'{\n  "hidden_size": 32,\n  "num_layers": 2\n}\n'
CONFIG_NEW = b'{\n  "hidden_size": 64,\n  "num_layers": 2\n}\n'
WEIGHTS_OLD, WEIGHTS_NEW = b"old weights" * 10, b"new weights" * 12
README = b"# Tiny\nno newline"


def commit(repo, files: dict[str, bytes] | None = None, delete=()):
    ingest = Ingest(repo)
    blobs = {path: ingest.add(path, [data]) for path, data in (files or {}).items()}
    return revision_create(repo, author=repo.owner, message="change", add=blobs, delete=delete).revision


@pytest.fixture
def two_revisions(owner):
    repo = repo_create(owner, "tiny-bert")
    base = commit(repo, {"config.json": CONFIG_OLD, "model.safetensors": WEIGHTS_OLD, "notes.txt": b"bye\n"})
    head = commit(
        repo,
        {"config.json": CONFIG_NEW, "model.safetensors": WEIGHTS_NEW, "README.md": README},
        delete=["notes.txt"],
    )
    return base, head


def test_added_removed_and_modified_files_with_sizes_hashes_and_text_diffs(two_revisions):
    base, head = two_revisions
    by_path = {c.path: c for c in revision_changes(base, head)}
    assert list(by_path) == ["README.md", "config.json", "model.safetensors", "notes.txt"]  # unchanged files left out

    readme = by_path["README.md"]
    assert (readme.status, readme.old_size, readme.new_size, readme.old_oid) == ("added", None, len(README), None)
    assert readme.new_oid == git_blob_sha1(README)  # a regular file: git's object id
    assert readme.diff == "@@ -0,0 +1,2 @@\n+# Tiny\n+no newline\n\\ No newline at end of file\n"

    config = by_path["config.json"]
    assert (config.status, config.old_size, config.new_size) == ("modified", len(CONFIG_OLD), len(CONFIG_NEW))
    assert (config.old_oid, config.new_oid) == (git_blob_sha1(CONFIG_OLD), git_blob_sha1(CONFIG_NEW))
    assert '-  "hidden_size": 32,\n+  "hidden_size": 64,\n' in config.diff and config.note == ""

    weights = by_path["model.safetensors"]
    assert weights.lfs and weights.diff is None and weights.note == "LFS file"
    assert weights.new_oid == hashlib.sha256(WEIGHTS_NEW).hexdigest()  # LFS: the sha256

    notes = by_path["notes.txt"]
    assert (notes.status, notes.new_size, notes.diff) == ("removed", None, "@@ -1 +0,0 @@\n-bye\n")


def test_unified_patch_reads_like_git(two_revisions):
    base, head = two_revisions
    patch = unified_patch(revision_changes(base, head))
    assert patch.count("diff --git ") == 4
    old_w, new_w = hashlib.sha256(WEIGHTS_OLD).hexdigest(), hashlib.sha256(WEIGHTS_NEW).hexdigest()
    assert (
        f"diff --git a/model.safetensors b/model.safetensors\nindex {old_w}..{new_w}\n"
        "Binary files a/model.safetensors and b/model.safetensors differ (LFS file)\n"
    ) in patch
    assert (
        "diff --git a/README.md b/README.md\nnew file mode 100644\n"
        f"index {'0' * 40}..{git_blob_sha1(README)}\n"
        "--- /dev/null\n+++ b/README.md\n@@ -0,0 +1,2 @@\n"
    ) in patch
    assert "deleted file mode 100644\n" in patch and "--- a/notes.txt\n+++ /dev/null\n" in patch


def test_binary_and_large_text_files_are_listed_without_a_diff(owner):
    repo = repo_create(owner, "bin")
    base = commit(repo, {"logo.png": b"\x89PNG\x00\x01", "big.txt": b"a\n" * 40_000})
    head = commit(
        repo, {"logo.png": b"\x89PNG\x00\x02", "big.txt": b"b\n" * 40_000, "latin.txt": "café".encode("latin-1")}
    )
    by_path = {c.path: c for c in revision_changes(base, head)}
    assert (by_path["logo.png"].diff, by_path["logo.png"].note, by_path["logo.png"].lfs) == (None, "binary", False)
    assert (by_path["big.txt"].diff, by_path["big.txt"].note) == (None, "larger than 64 KiB")
    assert (by_path["latin.txt"].diff, by_path["latin.txt"].note) == (None, "binary (not UTF-8)")
    assert "Binary files a/logo.png and b/logo.png differ (binary)" in unified_patch(by_path.values())


def test_bounds_on_files_diffed_diff_size_and_patch_size(owner, monkeypatch):
    repo = repo_create(owner, "many")
    base = commit(repo, {f"f{i}.txt": b"x\n" for i in range(4)} | {"long.txt": b"0\n"})
    head = commit(
        repo, {f"f{i}.txt": b"y\n" for i in range(4)} | {"long.txt": b"".join(b"%d\n" % i for i in range(500))}
    )
    monkeypatch.setattr(changes_mod, "MAX_DIFFED_FILES", 3)
    monkeypatch.setattr(changes_mod, "MAX_FILE_DIFF_CHARS", 1024)
    result = revision_changes(base, head)
    assert [c.path for c in result] == ["f0.txt", "f1.txt", "f2.txt", "f3.txt", "long.txt"]
    assert [c.diff is not None for c in result] == [True, True, True, False, False]
    assert result[3].note == "not diffed: only the first 3 small files are"

    monkeypatch.setattr(changes_mod, "MAX_DIFFED_FILES", 50)
    long = revision_changes(base, head)[-1]
    assert long.truncated and long.note == "diff cut at 1 KiB" and len(long.diff) <= 1024
    assert long.diff.endswith("\n") and "\\ diff cut at 1 KiB\n" in unified_patch([long])

    monkeypatch.setattr(changes_mod, "MAX_PATCH_CHARS", 400)
    patch = unified_patch(revision_changes(base, head))
    assert len(patch) < 600 and patch.endswith("more file(s) changed, not shown\n")
    assert patch.count("diff --git") + int(patch.rsplit("# diff cut at 0 KiB: ", 1)[1].split()[0]) == 5


def test_the_changes_partial_shows_names_sizes_hashes_and_marked_lines(two_revisions):
    base, head = two_revisions
    changes = revision_changes(base, head)
    html = render_to_string("models_app/_pr_changes.html", {"changes": changes})
    assert "<h2>4 changed files</h2>" in html
    assert '<span class="pill pill-ok">added</span>' in html and '<span class="pill pill-bad">removed</span>' in html
    assert '<span class="pill">LFS</span>' in html
    config = next(c for c in changes if c.path == "config.json")
    assert f'{config.old_oid[:8]}</span> → <span title="{config.new_oid}">{config.new_oid[:8]}' in html
    # Added and removed lines carry a word for screen readers, not only a colour.
    assert (
        '<del class="diff-line diff-del"><span class="visually-hidden">Removed: </span>-  &quot;hidden_size&quot;: 32,</del>'
        in html
    )
    assert '<ins class="diff-line diff-add"><span class="visually-hidden">Added: </span>+# Tiny</ins>' in html
    assert "No text diff: LFS file." in html
