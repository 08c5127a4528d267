"""The finder's rules in the web tier: start a search, read its ranking, ask for a confirmation.

``find_create`` runs in the web request (it reads the dataset to refuse a bad
layout at once) and queues ``work.rank_find``; ``find_confirm`` queues
``work.confirm_find``. The work itself (feature extraction and fine-tunes in
the validation sandbox) is in ``work.py``, which only workers import.
"""

from __future__ import annotations

import logging

from django.db import transaction

from hub.api import ApiError
from models_app.finder.data import load_revision
from models_app.finder.layouts import LayoutError
from models_app.finder.models import Find, FindRow
from models_app.models import ModelRepo, Ref, Revision
from models_app.repos.rules import can_write
from models_app.validation.estimators import SCORES as ESTIMATORS
from models_app.validation.models import ValidationSummary

log = logging.getLogger(__name__)

MAX_MODELS = 20
DEFAULT_K = 3
MAX_K = 10
SUITE_FOR = {"text": "text", "image": "image"}
RANK_TASK = "models_app.finder.tasks.rank_find"
CONFIRM_TASK = "models_app.finder.tasks.confirm_find"


# ---------------------------------------------------------------- starting


def candidates(modality: str, limit: int = MAX_MODELS) -> list[tuple[ModelRepo, Revision]]:
    """Public models the hub validated on this modality's suite and that loaded and trained (best first).

    "Compatible" is what the hub measured: a model whose ``main`` ran the
    suite (passed, or failed only because it learned too little) loads with
    transformers and has the right inputs; anything else would fail in the child.
    """
    summaries = (
        ValidationSummary.objects.filter(
            suite=SUITE_FOR[modality], repo__private=False, repo__hidden_at__isnull=True, run__metrics__has_key="tasks"
        )
        .exclude(verdict="error")
        .filter(reason__in=("", "no_learning"))
        .select_related("repo__owner")
        .order_by("-score", "repo_id")[:limit]
    )
    out = []
    for summary in summaries:
        ref = Ref.objects.filter(repo=summary.repo, name="main", kind="branch").select_related("revision").first()
        if ref is not None:
            out.append((summary.repo, ref.revision))
    return out


def find_create(user, dataset: ModelRepo) -> Find:
    """A queued search over ``dataset``'s ``main``; 400 with the file and the problem for a bad layout."""
    ref = Ref.objects.filter(repo=dataset, name="main", kind="branch").select_related("revision").first()
    if ref is None:
        raise ApiError(f"{dataset.repo_id} has no files yet: upload labelled data first.", status_code=400)
    try:
        data = load_revision(ref.revision)
    except LayoutError as exc:
        raise ApiError(f"The dataset cannot be read: {exc}", status_code=400) from None
    models = candidates(data.modality)
    if not models:
        raise ApiError(f"No validated public {data.modality} model to rank yet.", status_code=409)
    with transaction.atomic():
        find = Find.objects.create(
            dataset=dataset,
            revision=ref.revision,
            requested_by=user,
            modality=data.modality,
            dataset_sha256=data.sha256(),
            examples=len(data),
            label_names=data.label_names,
        )
        FindRow.objects.bulk_create(FindRow(find=find, model=repo, revision=rev) for repo, rev in models)
        _send_on_commit(RANK_TASK, find.pk)
    return find


def can_confirm(user, find: Find) -> bool:
    """Whoever started the search, or whoever may write the dataset (its owner, staff)."""
    return bool(user is not None and user.is_authenticated) and (
        user.pk == find.requested_by_id or can_write(user, find.dataset)
    )


def dataset_from_upload(user, files: list) -> ModelRepo:
    """A new private dataset repo holding the files uploaded on the finder page (CSV or JSONL).

    The files are kept whatever the layout check says afterwards: nothing the
    user sent is lost, and the dataset's page lets them fix it.
    """
    import secrets

    from django.utils import timezone

    from models_app.finder.layouts import MAX_BYTES, TABLE_SUFFIXES
    from models_app.publish.uploads import Ingest, UploadError, iter_file
    from models_app.repos.revisions import revision_create
    from models_app.repos.rules import repo_create

    if not files:
        raise ApiError("Choose a CSV or JSONL file with 'text' and 'label' columns.", status_code=400)
    for upload in files:
        if not upload.name.lower().endswith(TABLE_SUFFIXES):
            raise ApiError(f"{upload.name}: the finder page takes CSV or JSONL files; upload image folders "
                           "to a dataset repo.", status_code=400)  # fmt: skip
    if sum(upload.size for upload in files) > MAX_BYTES:
        raise ApiError(f"The files hold more than {MAX_BYTES // 1024**2} MiB.", status_code=413)
    name = f"{timezone.now():finder-%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"  # two uploads in one second differ
    repo = repo_create(user, name, private=True, repo_type="dataset")
    ingest = Ingest(repo)
    try:
        for upload in files:
            ingest.add(upload.name.rsplit("/", 1)[-1], iter_file(upload))
    except UploadError:
        repo.delete()  # refused before anything was committed: no empty repo is left behind
        raise
    revision_create(repo, author=user, message="Upload from the finder page", add=ingest.files)
    return repo


def find_confirm(user, find: Find, k: int = DEFAULT_K, estimator: str = "knn") -> Find:
    """Queue the fine-tune of the top ``k`` by ``estimator``; 409 while ranking or confirming."""
    if not can_confirm(user, find):
        raise ApiError("Only whoever started this search, or the dataset's owner, can confirm it.", status_code=403)
    if estimator not in ESTIMATORS:
        raise ApiError(f"estimator must be one of: {', '.join(ESTIMATORS)}.", status_code=400)
    if not 1 <= k <= MAX_K:
        raise ApiError(f"k must be between 1 and {MAX_K}.", status_code=400)
    with transaction.atomic():
        find = Find.objects.select_for_update().get(pk=find.pk)
        if find.status != Find.Status.DONE:
            raise ApiError("The ranking is not finished yet.", status_code=409)
        if find.confirm_status in ("queued", "running"):
            raise ApiError("A confirmation of this search is already running.", status_code=409)
        top = ranked(find, estimator)[:k]
        FindRow.objects.filter(find=find).update(confirm_status="", measured=None, confirm_message="")
        FindRow.objects.filter(pk__in=[row.pk for row in top]).update(confirm_status="queued")
        find.confirm_status, find.confirm_k, find.confirm_tau = "queued", len(top), {}
        find.save(update_fields=["confirm_status", "confirm_k", "confirm_tau"])
        _send_on_commit(CONFIRM_TASK, find.pk)
    return find


def _send_on_commit(task: str, find_id: int) -> None:
    def send() -> None:
        from celery import current_app

        try:
            current_app.signature(task, args=(find_id,)).delay()
        except Exception:  # noqa: BLE001 - a broker outage leaves the search queued; the page says so
            log.exception("could not queue %s for find %s", task, find_id)

    transaction.on_commit(send)


# ---------------------------------------------------------------- reading


def ranked(find: Find, estimator: str = "knn") -> list[FindRow]:
    """The scored rows, best first by ``estimator``; rows not scored (yet) last."""
    rows = list(find.rows.select_related("model__owner", "revision"))
    return sorted(rows, key=lambda r: (getattr(r, estimator) is None, -(getattr(r, estimator) or 0.0), r.pk))
