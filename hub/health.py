"""Health checks for /healthz: each returns None when up, or a reason when down."""

from __future__ import annotations

import os
import sqlite3

from django.conf import settings
from django.db import connection

TIMEOUT_SECONDS = 1.0


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return f"{type(exc).__name__}: {exc}"
    return None


def _ping_redis(url: str) -> str | None:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    return None


def check_channel_layer() -> str | None:
    if settings.REDIS_URL:
        return _ping_redis(settings.REDIS_URL)
    from channels.layers import get_channel_layer

    try:
        path = get_channel_layer().path  # instantiating the layer creates its table
        conn = sqlite3.connect(path, timeout=TIMEOUT_SECONDS)
        try:
            conn.execute("SELECT 1 FROM events LIMIT 1")
        finally:
            conn.close()
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    return None


def check_broker() -> str | None:
    if settings.REDIS_URL:
        return _ping_redis(settings.CELERY_BROKER_URL)
    folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", "")
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        return f"broker folder {folder} is missing or read-only"
    return None


CHECKS = {"database": check_database, "channel_layer": check_channel_layer, "broker": check_broker}


def health_report() -> tuple[bool, dict]:
    report = {}
    for name, check in CHECKS.items():
        problem = check()
        report[name] = {"ok": problem is None, **({"error": problem} if problem else {})}
    return all(part["ok"] for part in report.values()), report
