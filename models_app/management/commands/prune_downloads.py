"""``manage.py prune_downloads``: drop per-day download rows older than the 30-day window (run daily)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from models_app.engagement.download_counts import KEEP_DAYS, prune_downloads


class Command(BaseCommand):
    help = "Delete download-count rows older than the trending/30-day window; all-time totals are kept."

    def add_arguments(self, parser):
        parser.add_argument("--keep-days", type=int, default=KEEP_DAYS)

    def handle(self, *args, keep_days: int, **options):
        self.stdout.write(f"{prune_downloads(keep_days)} rows deleted")
