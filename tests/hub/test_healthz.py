"""/healthz reports the database, channel layer and broker."""

from __future__ import annotations

import subprocess
import time

import redis
from django.test import override_settings

from tests.live import free_port


def test_healthz_is_up_in_one_machine_mode(client, db, settings):
    if settings.REDIS_URL:
        import pytest

        pytest.skip("this pass runs with REDIS_URL; the Redis test below covers it")
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"]["ok"] and body["channel_layer"]["ok"] and body["broker"]["ok"]


def test_healthz_reports_a_stopped_redis_as_down(client, db, redis_server_binary, tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [
            redis_server_binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        with override_settings(REDIS_URL=url, CELERY_BROKER_URL=url):
            assert client.get("/healthz").status_code == 200
            server.terminate()
            server.wait(timeout=10)
            response = client.get("/healthz")
        assert response.status_code == 503
        body = response.json()
        assert set(body["down"]) == {"channel_layer", "broker"}
        assert body["database"]["ok"] is True
    finally:
        if server.poll() is None:
            server.kill()
