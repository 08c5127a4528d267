"""Reclaim storage no revision uses: the blobs of uploads never committed, and stray temp files.

It lives at the root of models_app, beside the task that schedules it, because
it sweeps both ``storage`` and ``xet`` and xet imports storage.

A blob becomes visible only when a revision's manifest names it, so an upload
that never reaches a commit (a failed native upload after some files were
stored, an LFS object whose commit never came, a Xet file never committed)
leaves bytes nobody can read. ``sweep_storage`` removes, once they are older
than ``HUB_BLOB_GRACE_HOURS``:

- blobs no revision of any repo names and no pending Xet file holds;
- abandoned Xet uploads (``xet.cleanup.xet_sweep``: unused xorbs, uncommitted
  Xet files and their blobs);
- upload temp files an hour old (no upload runs that long without writing).

The grace counts from ``created`` (of the Blob, or of the XetFile for the Xet
sweep), which ``keep_alive`` (``storage/retention.py``) moves forward whenever
an upload, an LFS batch answer or a Xet shard reuses the row: the client is
about to commit it, so it must survive the next sweep.
``retention.remove_stale_files`` is the one temp-file sweep (``runhub`` calls
it at start through ``cleanup_uploads``). Rows go before bytes (a reader never
finds a row without its file); a blob uploaded again between the two keeps its
file. Celery beat runs it every ``HUB_SWEEP_INTERVAL`` seconds
(runhub's worker has the beat); ``manage.py sweep_storage`` runs it by hand or
from cron.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from models_app.models import Blob, RepoFile
from models_app.storage import get_store
from models_app.storage.retention import remove_stale_files

if TYPE_CHECKING:
    from models_app.xet.cleanup import SweepResult

log = logging.getLogger(__name__)


@dataclass
class StorageSweep:
    blobs: int = 0  # every blob removed, those of uncommitted Xet files included
    blob_bytes: int = 0  # of the blobs no revision named (the Xet sweep does not count bytes)
    temp_files: int = 0
    xet: SweepResult | None = None


def unreferenced_blobs(cutoff):
    """Blobs older than ``cutoff`` that no revision names and no pending Xet file holds."""
    from models_app.xet.models import XetFile

    return (
        Blob.objects.filter(created__lt=cutoff)
        .exclude(sha256__in=RepoFile.objects.values("blob_id"))
        .exclude(sha256__in=XetFile.objects.values("blob_id"))
    )


def sweep_blobs(grace: timedelta) -> tuple[int, int]:
    """Delete unreferenced blobs older than ``grace``; (count, bytes)."""
    cutoff = timezone.now() - grace
    store = get_store()
    count = size = 0
    for sha256 in list(unreferenced_blobs(cutoff).values_list("sha256", flat=True)):
        try:
            with transaction.atomic():
                # Locked and checked again: a commit or keep_alive since the list was read wins.
                blob = unreferenced_blobs(cutoff).select_for_update().filter(sha256=sha256).first()
                if blob is None:
                    continue
                blob.delete()  # a RepoFile naming it by now raises ProtectedError: the blob stays
        except ProtectedError:
            continue
        if not Blob.objects.filter(sha256=sha256).exists():  # not uploaded again in the meantime
            store.delete(blob.storage_key)
        count, size = count + 1, size + blob.size
    return count, size


def sweep_storage(grace: timedelta | None = None, temp_age: timedelta = timedelta(hours=1)) -> StorageSweep:
    from models_app.xet.cleanup import xet_sweep

    grace = timedelta(hours=settings.HUB_BLOB_GRACE_HOURS) if grace is None else grace
    result = StorageSweep(xet=xet_sweep(grace))  # first: it releases the blobs of uncommitted Xet files
    result.blobs, result.blob_bytes = sweep_blobs(grace)
    result.blobs += result.xet.blobs
    result.temp_files = remove_stale_files(settings.UPLOAD_TMP_DIR, temp_age.total_seconds()) + result.xet.temp_files
    if result.blobs or result.temp_files or result.xet.xorbs:
        log.info("storage sweep: %s", result)
    return result
