"""/healthz reports the database, channel layer and broker."""

from __future__ import annotations

from django.test import override_settings

from tests.live import free_port, start_redis


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
    server = start_redis(redis_server_binary, port, tmp_path)
    url = f"redis://127.0.0.1:{port}/0"
    try:
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
