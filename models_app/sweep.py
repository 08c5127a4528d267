"""Reclaim storage no revision uses: the blobs of uploads never committed, and stray temp files.

A blob becomes visible only when a revision's manifest names it, so an upload
that never reaches a commit (a failed native upload after some files were
stored, an LFS object whose commit never came, a Xet file never committed)
leaves bytes nobody can read. ``sweep_storage`` removes, once they are older
than ``HUB_BLOB_GRACE_HOURS``:

- blobs no revision of any repo names and no pending Xet file holds;
- abandoned Xet uploads (``xet.cleanup.xet_sweep``: unused xorbs, uncommitted
  Xet files and their blobs);
- upload temp files an hour old (no upload runs that long without writing).

The grace counts from ``Blob.created``, which ``keep_alive`` moves forward
whenever an upload or an LFS batch answer reuses a stored blob: the client is
about to commit it, so it must survive the next sweep. Rows go before bytes (a
reader never finds a row without its file); a blob uploaded again between the
two keeps its file. Celery beat runs it every ``HUB_SWEEP_INTERVAL`` seconds
(runhub's worker has the beat); ``manage.py sweep_storage`` runs it by hand or
from cron.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from models_app.models import Blob, RepoFile
from models_app.storage import get_store

log = logging.getLogger(__name__)

# keep_alive writes only when the blob's mark is older than this: one row update per blob and hour at most.
REFRESH_AFTER = timedelta(hours=1)


@dataclass
class StorageSweep:
    blobs: int = 0
    blob_bytes: int = 0
    temp_files: int = 0
    xet_xorbs: int = 0
    xet_files: int = 0


def keep_alive(blob: Blob) -> bool:
    """Spare ``blob`` for another grace period (it is being reused); False when a sweep removed it meanwhile."""
    now = timezone.now()
    if blob.created > now - REFRESH_AFTER:
        return True
    return Blob.objects.filter(pk=blob.pk).update(created=now) == 1


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
    from models_app.management.commands.cleanup_uploads import cleanup_temp_files
    from models_app.xet.cleanup import xet_sweep

    grace = timedelta(hours=settings.HUB_BLOB_GRACE_HOURS) if grace is None else grace
    result = StorageSweep()
    xet = xet_sweep(grace)  # first: it releases the blobs of uncommitted Xet files
    result.xet_xorbs, result.xet_files = xet.xorbs, xet.files
    result.blobs, result.blob_bytes = sweep_blobs(grace)
    result.blobs += xet.blobs
    result.temp_files = cleanup_temp_files(temp_age.total_seconds()) + xet.temp_files
    if result.blobs or result.temp_files or result.xet_xorbs:
        log.info("storage sweep: %s", result)
    return result
