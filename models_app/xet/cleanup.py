"""Sweep what abandoned Xet uploads leave behind.

A client may upload xorbs and never send the shard, or send the shard and
never commit. After a grace period (``HUB_XET_GRACE_HOURS``) the sweep removes
xorbs no registered file uses, registered files no revision uses (with their
blob, when nothing else holds it), and stray temp files. Xorbs a registered
file uses stay: clients dedup against them on later uploads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from models_app.models import Blob, RepoFile
from models_app.storage import get_store
from models_app.storage.retention import remove_stale_files
from models_app.xet import xorb_store
from models_app.xet.cas import index_path, xorb_path
from models_app.xet.models import XetFile, Xorb


@dataclass
class SweepResult:
    xorbs: int = 0
    files: int = 0
    blobs: int = 0
    temp_files: int = 0


def xet_sweep(grace: timedelta | None = None) -> SweepResult:
    grace = timedelta(hours=settings.XET_UNREFERENCED_GRACE) if grace is None else grace
    cutoff = timezone.now() - grace
    result = SweepResult()

    for xorb_hash in Xorb.objects.filter(referenced__isnull=True, created__lt=cutoff).values_list("hash", flat=True):
        # Delete the row first: a concurrent shard then finds the xorb missing and refuses cleanly.
        if Xorb.objects.filter(hash=xorb_hash, referenced__isnull=True).delete()[0]:
            xorb_store.forget(xorb_path(xorb_hash), index_path(xorb_hash))
            result.xorbs += 1

    committed = RepoFile.objects.values("blob_id")
    for xet_file in XetFile.objects.filter(created__lt=cutoff).exclude(blob_id__in=committed):
        key = None
        with transaction.atomic():
            blob_id = xet_file.blob_id
            xet_file.delete()
            result.files += 1
            orphan = Blob.objects.filter(sha256=blob_id, created__lt=cutoff).exclude(sha256__in=committed)
            blob = orphan.exclude(sha256__in=XetFile.objects.values("blob_id")).first()
            if blob is not None:
                key = blob.storage_key
                blob.delete()
                result.blobs += 1
        if key is not None:
            # After the row is gone: a reader never finds a row without its bytes.
            get_store().delete(key)

    result.temp_files = remove_stale_files(Path(settings.XET_DIR) / "tmp", 3600, "*.part")
    return result
