"""Remove temp files left by interrupted uploads (a killed server, a dropped client)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Delete upload temp files older than --max-age-minutes (0: all; only when no upload can be running)."

    def add_arguments(self, parser):
        parser.add_argument("--max-age-minutes", type=float, default=60.0)

    def handle(self, *args, max_age_minutes: float, **options):
        removed = cleanup_temp_files(max_age_minutes * 60)
        self.stdout.write(f"removed {removed} temp file(s)")


def cleanup_temp_files(max_age_seconds: float) -> int:
    cutoff = time.time() - max_age_seconds
    removed = 0
    for path in settings.UPLOAD_TMP_DIR.glob("*"):
        try:
            if path.is_file() and path.stat().st_mtime <= cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
