"""Remove what abandoned Xet uploads left: unused xorbs, uncommitted files and their blobs, temp files."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand

from models_app.xet.cleanup import xet_sweep


class Command(BaseCommand):
    help = "Delete Xet uploads older than --grace-hours (default HUB_XET_GRACE_HOURS) that no commit used."

    def add_arguments(self, parser):
        parser.add_argument("--grace-hours", type=float, default=None)

    def handle(self, *args, grace_hours: float | None, **options):
        grace = None if grace_hours is None else timedelta(hours=grace_hours)
        result = xet_sweep(grace)
        self.stdout.write(
            f"removed {result.xorbs} xorb(s), {result.files} file record(s), "
            f"{result.blobs} blob(s), {result.temp_files} temp file(s)"
        )
