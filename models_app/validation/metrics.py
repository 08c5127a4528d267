"""Validation's Prometheus metrics: the queue depth and how long runs take.

Read from the database at scrape time, so every web process reports the same
numbers whichever worker ran the run, and they survive worker restarts (a
worker's own counters would die with it, and Celery's pool child runs the job,
not the process one would scrape). Query them with ``max``, not ``sum``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Count, ExpressionWrapper, F, Q, Sum
from django.db.models import DurationField as Duration
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily

from models_app.validation.models import ValidationRun

log = logging.getLogger(__name__)

# Seconds: a tiny model's run takes tens of seconds on a CPU, a large one half an hour on a GPU.
BUCKETS = (10, 30, 60, 120, 300, 600, 1200, 1800, 3600)


def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, HistogramMetricFamily]:
    return (
        GaugeMetricFamily("hub_validation_queue_depth", "Validation runs waiting for a worker"),
        GaugeMetricFamily("hub_validation_runs_running", "Validation runs a worker is running now"),
        HistogramMetricFamily(
            "hub_validation_run_duration_seconds", "Time from a finished run's claim to its verdict", labels=["status"]
        ),
    )


class ValidationCollector:
    def describe(self):
        return list(_families())  # names only: registering must not touch the database

    def collect(self):
        queued, running, durations = _families()
        try:
            counts = ValidationRun.objects.aggregate(
                queued=Count("pk", filter=Q(status=ValidationRun.Status.QUEUED)),
                running=Count("pk", filter=Q(status=ValidationRun.Status.RUNNING)),
            )
            finished = ValidationRun.objects.filter(
                status__in=ValidationRun.DONE, started__isnull=False, finished__isnull=False
            ).annotate(took=ExpressionWrapper(F("finished") - F("started"), output_field=Duration()))
            by_status = {}
            for status in ValidationRun.DONE:
                rows = finished.filter(status=status)
                by_status[status] = rows.aggregate(
                    total=Sum("took"),
                    count=Count("pk"),
                    **{f"le_{b}": Count("pk", filter=Q(took__lte=_seconds(b))) for b in BUCKETS},
                )
        except Exception as exc:  # noqa: BLE001 - a database outage must not take /metrics down with it
            log.warning("validation metrics skipped: %s: %s", type(exc).__name__, exc)
            return
        queued.add_metric([], counts["queued"])
        running.add_metric([], counts["running"])
        for status, row in by_status.items():
            buckets = [(str(float(b)), row[f"le_{b}"]) for b in BUCKETS] + [("+Inf", row["count"])]
            total = row["total"].total_seconds() if row["total"] else 0.0
            durations.add_metric([str(status)], buckets, total)
        yield from (queued, running, durations)


def _seconds(value: int) -> timedelta:
    return timedelta(seconds=value)


_registered = False


def register() -> None:
    """Add the collector to prometheus-client's registry, once per process."""
    global _registered
    if not _registered:
        from prometheus_client import REGISTRY

        REGISTRY.register(ValidationCollector())
        _registered = True
