"""Remove temp files left by interrupted uploads (a killed server, a dropped client)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from models_app.storage.retention import remove_stale_files


class Command(BaseCommand):
    help = "Delete upload temp files older than --max-age-minutes (0: all; only when no upload can be running)."

    def add_arguments(self, parser):
        parser.add_argument("--max-age-minutes", type=float, default=60.0)

    def handle(self, *args, max_age_minutes: float, **options):
        removed = remove_stale_files(settings.UPLOAD_TMP_DIR, max_age_minutes * 60)
        self.stdout.write(f"removed {removed} temp file(s)")
