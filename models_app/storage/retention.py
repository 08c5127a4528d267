"""The grace rule: how long stored bytes nobody names yet are kept, and how an upload extends it.

A blob (or a Xet file) that no revision names yet is removed by the storage
sweep (``models_app/sweep.py``) once its ``created`` is older than
``HUB_BLOB_GRACE_HOURS``. An upload, an LFS batch answer or a Xet shard that
reuses such a row calls ``keep_alive``: the client is about to commit it, so it
must survive the next sweep. This module imports nothing from the capabilities
that call it (publish, hf, xet), so each can depend on it without a cycle
through the sweeper, which imports them.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

# keep_alive writes only when the blob's mark is older than this: one row update per blob and hour at most.
REFRESH_AFTER = timedelta(hours=1)


def keep_alive(row) -> bool:
    """Spare ``row`` (a Blob or a XetFile: anything a sweep ages by ``created``) for another grace period.

    Called when an upload reuses it. False when a sweep removed it meanwhile.
    """
    now = timezone.now()
    if row.created > now - REFRESH_AFTER:
        return True
    return type(row).objects.filter(pk=row.pk).update(created=now) == 1


def remove_stale_files(folder: Path, max_age_seconds: float, pattern: str = "*") -> int:
    """Delete the files in ``folder`` matching ``pattern`` untouched for ``max_age_seconds`` (0: all); how many."""
    cutoff = time.time() - max_age_seconds
    removed = 0
    for path in folder.glob(pattern) if folder.exists() else ():
        try:
            if path.is_file() and path.stat().st_mtime <= cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
