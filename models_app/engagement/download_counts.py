"""Download counting.

The rule: a download is counted once per repo, per client, per UTC day, when
the client GETs the repo's ``config.json`` or a weights file (``*.safetensors``,
``*.bin``, ``*.pt``, ``*.pth``, ``*.ckpt``, ``*.onnx``, ``*.gguf``, ``*.h5``,
``*.msgpack``). HEAD requests (the HF client's metadata check, sent again on
every cached load) and other files (tokenizer, README) do not count. The client
is the user when the request is authenticated, otherwise a hash of the address
and the user agent.

The hot path is one conflict-ignoring INSERT into ``DownloadDay`` (its unique
key is the rule); only the first download of the day by that client also bumps
the all-time ``ModelRepo.downloads`` with a single-row ``UPDATE ... + 1``, so a
client fetching the same file a thousand times takes no row lock after the
first. The last-30-days figure counts ``DownloadDay`` rows; ``prune_downloads``
drops rows older than that window.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from django.db import connection
from django.db.models import F
from django.utils import timezone

from models_app.engagement.models import DownloadDay
from models_app.models import ModelRepo

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".onnx", ".gguf", ".h5", ".msgpack")
KEEP_DAYS = 31


def counts_as_download(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name == "config.json" or name.endswith(WEIGHT_SUFFIXES)


def client_key(user_pk: int | None, address: str, user_agent: str) -> str:
    raw = f"user:{user_pk}" if user_pk else f"anon:{address}|{user_agent}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def download_count(repo_pk: int, client: str, day: date | None = None) -> bool:
    """Record one download; True when it was the client's first of the day for this repo (so it counted)."""
    day = day or timezone.now().date()
    table = DownloadDay._meta.db_table
    with connection.cursor() as cursor:
        # ON CONFLICT DO NOTHING is spelled the same in SQLite (>= 3.24) and PostgreSQL.
        cursor.execute(
            f"INSERT INTO {table} (repo_id, day, client) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",  # noqa: S608
            [repo_pk, day, client],
        )
        inserted = cursor.rowcount == 1
    if inserted:
        ModelRepo.objects.filter(pk=repo_pk).update(downloads=F("downloads") + 1)
    return inserted


def downloads_last_days(repo_pk: int, days: int = 30) -> int:
    since = timezone.now().date() - timedelta(days=days - 1)
    return DownloadDay.objects.filter(repo_id=repo_pk, day__gte=since).count()


def prune_downloads(keep_days: int = KEEP_DAYS) -> int:
    cutoff = timezone.now().date() - timedelta(days=keep_days)
    deleted, _ = DownloadDay.objects.filter(day__lt=cutoff).delete()
    return deleted
