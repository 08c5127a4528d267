"""Read-side shapes of one repo: model info, file trees, refs and history (HF JSON plus our fields).

Each function does a fixed number of queries whatever the number of files or
revisions: manifests come back as ``.values()`` rows joined to their blobs.
"""

from __future__ import annotations

import hashlib
import html
from datetime import datetime

from hub.markdown import render_markdown
from models_app.engagement.download_counts import downloads_last_days
from models_app.hf.errors import HubNotFound
from models_app.models import ModelRepo, Ref, RepoFile, Revision
from models_app.repos.blobs import file_oid, fill_git_oids, is_lfs

TREE_PAGE = 1000
TREE_PAGE_EXPANDED = 50


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def manifest_rows(revision: Revision) -> list[dict]:
    rows = list(
        RepoFile.objects.filter(revision=revision)
        .order_by("path")
        .values("path", "blob_id", "blob__size", "blob__git_oid")
    )
    fill_git_oids(rows)
    return rows


def file_entry(row: dict) -> dict:
    """One file as ``list_repo_tree`` and ``get_paths_info`` give it."""
    entry = {"type": "file", "oid": file_oid(row), "size": row["blob__size"], "path": row["path"]}
    if is_lfs(row["path"], row["blob__size"]):
        entry["lfs"] = {"oid": row["blob_id"], "size": row["blob__size"], "pointerSize": 134}
    return entry


def model_info(repo: ModelRepo, revision: Revision | None) -> dict:
    """The HF ``model_info`` shape (``id``, ``sha``, ``siblings``, ...) and TransferHub's own fields."""
    rows = manifest_rows(revision) if revision is not None else []
    siblings = []
    for row in rows:
        sibling = {"rfilename": row["path"], "size": row["blob__size"], "blobId": file_oid(row)}
        if is_lfs(row["path"], row["blob__size"]):
            sibling["lfs"] = {"sha256": row["blob_id"], "size": row["blob__size"], "pointerSize": 134}
        siblings.append(sibling)
    validation = getattr(repo, "validation", None) if _has_validation(repo) else None
    return {
        "_id": str(repo.pk),
        "id": repo.repo_id,
        **({} if repo.is_dataset else {"modelId": repo.repo_id}),
        "author": repo.owner.username,
        "sha": revision.sha if revision is not None else None,
        "private": repo.private,
        "gated": repo.gated or False,
        "disabled": False,
        "downloads": repo.downloads,
        "downloadsAllTime": repo.downloads,
        "downloadsLast30Days": downloads_last_days(repo.pk, 30),
        "likes": repo.likes,
        "tags": repo.tags,
        "pipeline_tag": repo.pipeline_tag or None,
        "library_name": repo.library_name or None,
        "license": repo.license or None,
        "languages": repo.languages,
        "cardData": repo.card_meta or {},
        "siblings": siblings,
        "usedStorage": sum(row["blob__size"] for row in rows),
        "createdAt": _iso(repo.created),
        "lastModified": _iso(revision.created if revision is not None else repo.updated),
        "validation": {
            "verdict": validation.verdict,
            "score": validation.score,
            "suite": validation.suite,
            "gain": validation.gain,
            "finished": _iso(validation.finished),
        }
        if validation is not None
        else None,
        # The hub's own measurement in the card's model-index shape, for HF-style tools.
        "model-index": _model_index(repo) if validation is not None and validation.verdict == "passed" else [],
    }


def _model_index(repo: ModelRepo) -> list:
    from models_app.validation.report import model_index_for

    return model_index_for(repo)


def _has_validation(repo: ModelRepo) -> bool:
    from models_app.validation.models import ValidationSummary

    try:
        repo.validation  # noqa: B018 - loads the one-to-one (select_related makes it free)
        return True
    except ValidationSummary.DoesNotExist:
        return False


def tree_entries(revision: Revision, path: str, recursive: bool) -> list[dict]:
    """Files and folders under ``path`` (everything below it when ``recursive``), in path order."""
    prefix = f"{path.strip('/')}/" if path.strip("/") else ""
    files: list[dict] = []
    folders: dict[str, list[str]] = {}
    for row in manifest_rows(revision):
        if not row["path"].startswith(prefix):
            continue
        rel = row["path"][len(prefix) :]
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            folder = prefix + "/".join(parts[:depth])
            folders.setdefault(folder, []).append(row["blob_id"])
            if not recursive:
                break
        if recursive or len(parts) == 1:
            files.append(file_entry(row))
    if prefix and not files and not folders:
        raise HubNotFound(404, "EntryNotFound", f"{path} is not a folder of this revision.", commit=revision.sha)
    for folder, oids in folders.items():
        files.append({"type": "directory", "oid": _folder_oid(oids), "size": 0, "path": folder})
    return sorted(files, key=lambda e: e["path"])


def paths_info(revision: Revision, paths: list[str]) -> list[dict]:
    """The files and folders among ``paths`` in ``revision`` (paths that name nothing are left out)."""
    wanted = {path.strip("/") for path in paths}
    rows = manifest_rows(revision)
    entries = [file_entry(row) for row in rows if row["path"] in wanted]
    folders: dict[str, list[str]] = {}
    for row in rows:
        parts = row["path"].split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in wanted:
                folders.setdefault(folder, []).append(row["blob_id"])
    for folder, oids in folders.items():
        entries.append({"type": "directory", "oid": _folder_oid(oids), "path": folder})
    return sorted(entries, key=lambda e: e["path"])


def _folder_oid(oids: list[str]) -> str:
    return hashlib.sha1("".join(sorted(oids)).encode(), usedforsecurity=False).hexdigest()


def history(repo: ModelRepo, revision: Revision) -> list[dict]:
    """``revision`` and its ancestors, newest first, as ``.values()`` rows (one query)."""
    rows = {
        row["pk"]: row
        for row in Revision.objects.filter(repo=repo).values(
            "pk", "sha", "parent_id", "message", "description", "created", "author__username"
        )
    }
    chain = []
    current = rows.get(revision.pk)
    while current is not None:
        chain.append(current)
        current = rows.get(current["parent_id"])
    return chain


def add_last_commits(entries: list[dict], repo: ModelRepo, revision: Revision) -> None:
    """``lastCommit`` per file: the oldest revision since which the file's content is unchanged."""
    chain = history(repo, revision)
    paths = [e["path"] for e in entries if e["type"] == "file"]
    blobs: dict[tuple[int, str], str] = {
        (row["revision_id"], row["path"]): row["blob_id"]
        for row in RepoFile.objects.filter(revision__in=[r["pk"] for r in chain], path__in=paths).values(
            "revision_id", "path", "blob_id"
        )
    }
    _add_folder_commits([e for e in entries if e["type"] == "directory"], chain)
    for entry in entries:
        if entry["type"] != "file":
            continue
        last = chain[0]
        current = blobs.get((last["pk"], entry["path"]))
        for older in chain[1:]:
            if blobs.get((older["pk"], entry["path"])) != current:
                break
            last = older
        entry["lastCommit"] = {"id": last["sha"], "title": last["message"], "date": _iso(last["created"])}


def _add_folder_commits(folders: list[dict], chain: list[dict]) -> None:
    if not folders:
        return
    prefixes = [f"{folder['path']}/" for folder in folders]
    contents: dict[int, dict[str, set]] = {}
    rows = RepoFile.objects.filter(revision__in=[r["pk"] for r in chain]).values_list("revision_id", "path", "blob_id")
    for revision_id, path, blob in rows:
        for prefix in prefixes:
            if path.startswith(prefix):
                contents.setdefault(revision_id, {}).setdefault(prefix, set()).add((path, blob))
    for folder, prefix in zip(folders, prefixes, strict=True):
        last = chain[0]
        current = contents.get(last["pk"], {}).get(prefix)
        for older in chain[1:]:
            if contents.get(older["pk"], {}).get(prefix) != current:
                break
            last = older
        folder["lastCommit"] = {"id": last["sha"], "title": last["message"], "date": _iso(last["created"])}


def commit_json(row: dict, *, formatted: bool = False) -> dict:
    answer = {
        "id": row["sha"],
        "title": row["message"],
        "message": row["description"],
        "date": _iso(row["created"]),
        "authors": [{"user": row["author__username"]}] if row["author__username"] else [],
    }
    if formatted:  # ``list_repo_commits(formatted=True)``: title and description as HTML
        answer["formatted"] = {
            "title": html.escape(row["message"]),
            "message": render_markdown(row["description"]) if row["description"] else "",
        }
    return answer


REF_GROUPS = {Ref.Kind.BRANCH: ("branches", "refs/heads/"), Ref.Kind.TAG: ("tags", "refs/tags/"),
              Ref.Kind.PR: ("pullRequests", "refs/pr/")}  # fmt: skip


def refs_json(repo: ModelRepo, *, pull_requests: bool = False) -> dict:
    """``list_repo_refs``: branches and tags, and the pull requests' heads when asked (``include_prs=1``)."""
    refs = Ref.objects.filter(repo=repo).order_by("name").values("name", "kind", "revision__sha")
    out = {"branches": [], "tags": [], "converts": []}
    if pull_requests:
        out["pullRequests"] = []
    for ref in refs:
        group, prefix = REF_GROUPS[ref["kind"]]
        if group in out:
            name = prefix + ref["name"] if ref["kind"] == Ref.Kind.PR else ref["name"]
            out[group].append({"name": name, "ref": prefix + ref["name"], "targetCommit": ref["revision__sha"]})
    return out


def add_siblings(items: list[dict], repo_pks: list[int]) -> None:
    """``sha`` and ``siblings`` at ``main`` for each listed repo (``list_models(full=True)``), in two queries."""
    heads = dict(
        Ref.objects.filter(repo_id__in=repo_pks, name="main", kind=Ref.Kind.BRANCH).values_list(
            "repo_id", "revision_id"
        )
    )
    shas = dict(Revision.objects.filter(pk__in=heads.values()).values_list("pk", "sha"))
    files: dict[int, list[dict]] = {}
    rows = RepoFile.objects.filter(revision_id__in=heads.values()).order_by("path")
    for row in rows.values("revision_id", "path", "blob_id", "blob__size", "blob__git_oid"):
        files.setdefault(row["revision_id"], []).append(row)
    for item, pk in zip(items, repo_pks, strict=True):
        revision_id = heads.get(pk)
        item["sha"] = shas.get(revision_id)
        item["siblings"] = [{"rfilename": row["path"]} for row in files.get(revision_id, [])]
