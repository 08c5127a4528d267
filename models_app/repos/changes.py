"""What changed between two revisions, file by file: for a pull request's page and its API ``diff``.

Manifests are compared by path (RepoFile rows); small text files get a unified
diff of their content read back from the blob store. Everything is bounded, so
a PR that touches ten thousand files, or a 60 KiB minified JSON, costs a known
amount of reading and answers a known amount of text; what a bound left out is
said in the result (``FileChange.note``, the patch's last line).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from models_app.models import RepoFile, Revision
from models_app.repos.blobs import file_oid, fill_git_oids, is_lfs
from models_app.storage import get_store

# A side larger than this is not read for a text diff (the card, config and tokenizer files fit).
MAX_DIFF_FILE_BYTES = 64 * 1024
# Text files diffed per comparison; the rest are listed with their sizes and hashes only.
MAX_DIFFED_FILES = 50
# Characters of one file's diff; a longer one is cut at a line and says so.
MAX_FILE_DIFF_CHARS = 64 * 1024
# Characters of the whole git-style patch.
MAX_PATCH_CHARS = 512 * 1024
CONTEXT_LINES = 3

ADDED, REMOVED, MODIFIED = "added", "removed", "modified"
NO_NEWLINE = "\\ No newline at end of file\n"


@dataclass(frozen=True)
class FileChange:
    path: str
    status: str  # added | removed | modified
    old_size: int | None  # None on the side where the file does not exist
    new_size: int | None
    old_oid: str | None  # sha256 for an LFS file, the git object id otherwise (what the HF client compares)
    new_oid: str | None
    lfs: bool  # either side stored as LFS
    diff: str | None  # unified diff hunks ("@@ ..." onwards), None when not diffed
    note: str = ""  # why there is no diff, or that it was cut: "binary", "LFS", "larger than 64 KiB", ...
    truncated: bool = False  # the diff was cut at MAX_FILE_DIFF_CHARS

    @property
    def lines(self) -> list[dict]:
        """The diff as rows for a page: ``{"kind": hunk|add|del|context|note, "text": ...}``."""
        out = []
        for line in (self.diff or "").splitlines():
            kind = {"@": "hunk", "+": "add", "-": "del", "\\": "note"}.get(line[:1], "context")
            out.append({"kind": kind, "text": line})
        return out


def _manifest(revision: Revision | None) -> dict[str, dict]:
    if revision is None:
        return {}
    rows = RepoFile.objects.filter(revision=revision).values(
        "path", "blob_id", "blob__size", "blob__git_oid", "blob__storage_key"
    )
    return {row["path"]: row for row in rows}


def _read_text(row: dict) -> tuple[list[str] | None, str]:
    """The file's lines (ends kept), or None and why not."""
    try:
        with get_store().open(row["blob__storage_key"]) as handle:
            data = handle.read(MAX_DIFF_FILE_BYTES + 1)
    except OSError:
        return None, "content not available"
    if b"\0" in data:
        return None, "binary"
    try:
        return data.decode("utf-8").splitlines(keepends=True), ""
    except UnicodeDecodeError:
        return None, "binary (not UTF-8)"


def _why_not_diffed(path: str, old: dict | None, new: dict | None) -> str:
    for row in (old, new):
        if row is None:
            continue
        if is_lfs(path, row["blob__size"]):
            return "LFS file"
        if row["blob__size"] > MAX_DIFF_FILE_BYTES:
            return f"larger than {MAX_DIFF_FILE_BYTES // 1024} KiB"
    return ""


def _text_diff(old: dict | None, new: dict | None) -> tuple[str | None, str, bool]:
    """(hunks, note, truncated) for one changed path whose sides are small and not LFS."""
    sides = []
    for row in (old, new):
        if row is None:
            sides.append([])
            continue
        lines, why = _read_text(row)
        if lines is None:
            return None, why, False
        sides.append(lines)
    out, size, truncated = [], 0, False
    # The two "---"/"+++" header lines are left to unified_patch, which writes git's own.
    for line in list(difflib.unified_diff(sides[0], sides[1], n=CONTEXT_LINES))[2:]:
        if not line.endswith("\n"):
            line += "\n" + NO_NEWLINE  # git's marker for a last line without a newline
        if size + len(line) > MAX_FILE_DIFF_CHARS:
            truncated = True
            break
        out.append(line)
        size += len(line)
    note = f"diff cut at {MAX_FILE_DIFF_CHARS // 1024} KiB" if truncated else ""
    return "".join(out), note, truncated


def revision_changes(base: Revision | None, head: Revision) -> list[FileChange]:
    """Every path added, removed or modified from ``base`` to ``head``, sorted by path.

    Text diffs for the first ``MAX_DIFFED_FILES`` small text files (UTF-8, not LFS,
    at most ``MAX_DIFF_FILE_BYTES`` on both sides); the others carry a ``note``.
    """
    old, new = _manifest(base), _manifest(head)
    paths = sorted(
        p for p in old.keys() | new.keys() if (old.get(p) or {}).get("blob_id") != (new.get(p) or {}).get("blob_id")
    )
    # Regular files need their git object id; blobs stored before that column get it now (read once).
    fill_git_oids([row for p in paths for row in (old.get(p), new.get(p)) if row is not None])
    changes, diffed = [], 0
    for path in paths:
        before, after = old.get(path), new.get(path)
        status = ADDED if before is None else REMOVED if after is None else MODIFIED
        diff, note, truncated = None, _why_not_diffed(path, before, after), False
        if not note and diffed >= MAX_DIFFED_FILES:
            note = f"not diffed: only the first {MAX_DIFFED_FILES} small files are"
        elif not note:
            diffed += 1  # counts every file read, binary ones too: the bound is on reading
            diff, note, truncated = _text_diff(before, after)
        changes.append(
            FileChange(
                path=path,
                status=status,
                old_size=before["blob__size"] if before else None,
                new_size=after["blob__size"] if after else None,
                old_oid=file_oid(before) if before else None,
                new_oid=file_oid(after) if after else None,
                lfs=any(row is not None and is_lfs(path, row["blob__size"]) for row in (before, after)),
                diff=diff,
                note=note,
                truncated=truncated,
            )
        )
    return changes


def _file_patch(change: FileChange) -> str:
    a, b = f"a/{change.path}", f"b/{change.path}"
    zero = "0" * 40
    head = [f"diff --git {a} {b}\n"]
    if change.status == ADDED:
        head.append("new file mode 100644\n")
    elif change.status == REMOVED:
        head.append("deleted file mode 100644\n")
    head.append(f"index {change.old_oid or zero}..{change.new_oid or zero}\n")
    old_name = a if change.status != ADDED else "/dev/null"
    new_name = b if change.status != REMOVED else "/dev/null"
    if change.diff is None:
        reason = f" ({change.note})" if change.note else ""
        return "".join(head) + f"Binary files {old_name} and {new_name} differ{reason}\n"
    if not change.diff:  # the same text (an empty file added, or only a stored copy changed)
        return "".join(head)
    body = change.diff + (f"\\ diff cut at {MAX_FILE_DIFF_CHARS // 1024} KiB\n" if change.truncated else "")
    return "".join(head) + f"--- {old_name}\n+++ {new_name}\n" + body


def unified_patch(changes: Iterable[FileChange]) -> str:
    """All changes as one git-style diff (``diff --git`` headers, ``index old..new`` with full oids).

    Files without a text diff (LFS, binary, too large) read "Binary files ... differ".
    Cut at ``MAX_PATCH_CHARS`` at a file boundary, with a last line saying how many files were left out.
    """
    changes = list(changes)
    parts, size = [], 0
    for index, change in enumerate(changes):
        text = _file_patch(change)
        if size + len(text) > MAX_PATCH_CHARS:
            left = len(changes) - index
            parts.append(f"# diff cut at {MAX_PATCH_CHARS // 1024} KiB: {left} more file(s) changed, not shown\n")
            break
        parts.append(text)
        size += len(text)
    return "".join(parts)
