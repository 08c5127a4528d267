"""A channel layer for the one-machine mode that reaches across processes.

Channels' in-memory layer only reaches its own process, but validation runs in
the Celery worker process and its progress must reach browsers connected to
the web process. This layer keeps Channels' in-memory delivery for everything
local and sends each ``group_send`` through a small SQLite table (WAL mode):
every process that has local group members tails the table and delivers new
rows to them. Latency is the poll interval (0.1 s); throughput is SQLite's,
plenty for one machine. With ``REDIS_URL`` set, channels-redis replaces it.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time

from channels.layers import InMemoryChannelLayer

POLL_SECONDS = 0.1
KEEP_SECONDS = 120


class SQLiteBroadcastChannelLayer(InMemoryChannelLayer):
    def __init__(self, path: str, **kwargs):
        super().__init__(**kwargs)
        self.path = path
        self._tail_task: asyncio.Task | None = None
        self._last_id: int | None = None
        self._init_db()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _init_db(self) -> None:
        with self._connect() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                "grp TEXT NOT NULL, message TEXT NOT NULL, created REAL NOT NULL)"
            )
        conn.close()

    def _insert(self, group: str, message: dict) -> None:
        conn = self._connect()
        try:
            now = time.time()
            conn.execute(
                "INSERT INTO events (grp, message, created) VALUES (?, ?, ?)", (group, json.dumps(message), now)
            )
            conn.execute("DELETE FROM events WHERE created < ?", (now - KEEP_SECONDS,))
        finally:
            conn.close()

    def _fetch(self, after: int | None) -> list[tuple[int, str, str]]:
        conn = self._connect()
        try:
            if after is None:
                row = conn.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()
                return [(row[0], "", "")]
            return conn.execute("SELECT id, grp, message FROM events WHERE id > ? ORDER BY id", (after,)).fetchall()
        finally:
            conn.close()

    async def group_send(self, group: str, message: dict) -> None:
        assert self.valid_group_name(group), "Group name not valid"
        await asyncio.to_thread(self._insert, group, message)

    async def group_add(self, group: str, channel: str) -> None:
        await super().group_add(group, channel)
        await self._ensure_tail()

    async def _ensure_tail(self) -> None:
        if self._tail_task is None or self._tail_task.done():
            if self._last_id is None:
                self._last_id = (await asyncio.to_thread(self._fetch, None))[0][0]
            self._tail_task = asyncio.get_running_loop().create_task(self._tail())

    async def _tail(self) -> None:
        while self.groups:
            rows = await asyncio.to_thread(self._fetch, self._last_id)
            for row_id, group, payload in rows:
                self._last_id = row_id
                if group in self.groups:
                    await InMemoryChannelLayer.group_send(self, group, json.loads(payload))
            await asyncio.sleep(POLL_SECONDS)
