"""Run the storage sweep now (Celery beat runs it every HUB_SWEEP_INTERVAL seconds)."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand

from models_app.sweep import sweep_storage


class Command(BaseCommand):
    help = (
        "Delete blobs no revision names, abandoned Xet uploads and stale temp files, "
        "older than --grace-hours (default HUB_BLOB_GRACE_HOURS)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--grace-hours", type=float, default=None)

    def handle(self, *args, grace_hours: float | None, **options):
        result = sweep_storage(None if grace_hours is None else timedelta(hours=grace_hours))
        self.stdout.write(
            f"removed {result.blobs} blob(s) ({result.blob_bytes} bytes), {result.xet.xorbs} xorb(s), "
            f"{result.xet.files} Xet file record(s), {result.temp_files} temp file(s)"
        )
