"""Operations: request ids on every answer and log line, /livez and /readyz, and /metrics behind its token."""

from __future__ import annotations

import json
import logging
import logging.config
import re
from datetime import timedelta

import httpx
import pytest
from django.test import override_settings
from django.utils import timezone

from hub import requestid
from models_app.validation.models import ValidationRun
from tests.discussions.live_client import RoomClient, make_repo
from tests.live import LiveHub
from tests.validation.jobs_fixtures import publish_bytes

pytestmark = [pytest.mark.live]

METRICS_TOKEN = "metrics-token-for-tests"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A hub of its own: /metrics needs the token in the server's environment."""
    with LiveHub(tmp_path_factory.mktemp("observed"), extra_env={"HUB_METRICS_TOKEN": METRICS_TOKEN}) as live:
        yield live


def _metric(text: str, name: str, **labels) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        series, _, value = line.rpartition(" ")
        if series == (f"{name}{{{wanted}}}" if labels else name):
            return float(value)
    return 0.0


def _sorted_labels(text: str) -> str:
    """Exposition lines with each series' labels in name order, as ``_metric`` looks them up."""

    def sort(match):
        labels = sorted(re.findall(r'(\w+="[^"]*")', match.group(2)))
        return f"{match.group(1)}{{{','.join(labels)}}}"

    return re.sub(r"^(\w+)\{([^}]*)\}", sort, text, flags=re.M)


def test_every_answer_carries_a_request_id_that_its_log_lines_carry_too(hub):
    answers = {
        "page": httpx.get(f"{hub.url}/"),
        "json 404": httpx.get(f"{hub.url}/api/models/nobody/nothing"),
        "page 404": httpx.get(f"{hub.url}/nobody/nothing"),
        "url guard 400": httpx.get(f"{hub.url}/api/models/a%00b"),
        "liveness": httpx.get(f"{hub.url}/livez"),
    }
    ids = {name: answer.headers.get("x-request-id") for name, answer in answers.items()}
    assert all(ids.values()), ids
    assert len(set(ids.values())) == len(ids)  # one per request
    log = hub.log("web")
    for name, request_id in ids.items():
        assert f"[{request_id}] hub.access" in log, name


def test_a_sane_incoming_request_id_is_kept_and_anything_else_replaced(hub):
    kept = httpx.get(f"{hub.url}/api/models/nobody/nothing", headers={"X-Request-Id": "nginx-4f2a9c"})
    assert kept.status_code in (401, 404) and kept.headers["x-request-id"] == "nginx-4f2a9c"
    for bad in ("has space", "x" * 200, 'quote"d'):
        answer = httpx.get(f"{hub.url}/livez", headers={"X-Request-Id": bad})
        assert answer.headers["x-request-id"] != bad
        assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"])


def test_the_hugging_face_client_reports_the_request_id_of_an_error(hub):
    from huggingface_hub import HfApi
    from huggingface_hub.utils import HfHubHTTPError

    with pytest.raises(HfHubHTTPError) as raised:
        HfApi(endpoint=hub.url, token=False).model_info("nobody/nothing")
    assert raised.value.request_id and raised.value.request_id in hub.log("web")


def test_liveness_and_readiness(hub):
    live = httpx.get(f"{hub.url}/livez")
    assert live.status_code == 200 and live.json() == {"status": "alive"}
    ready = httpx.get(f"{hub.url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ok" and ready.json()["database"]["ok"]


def test_metrics_need_the_token(hub):
    assert httpx.get(f"{hub.url}/metrics").status_code == 404
    wrong = httpx.get(f"{hub.url}/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 404 and "hub_http_requests" not in wrong.text
    right = httpx.get(f"{hub.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert right.status_code == 200 and right.headers["content-type"].startswith("text/plain")


async def test_metrics_count_requests_by_route_and_open_room_connections(hub):
    def scrape() -> str:
        answer = httpx.get(f"{hub.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        return _sorted_labels(answer.text)

    before = scrape()
    for _ in range(3):
        httpx.get(f"{hub.url}/api/models/nobody/nothing")
    token = hub.create_token("mira", "write")
    make_repo(hub, "mira", "watched-bert")
    room = await RoomClient(hub.url, "mira/watched-bert", token).open()
    during = scrape()
    await room.close()

    route = {"method": "GET", "route": "api_model_detail"}
    counted = _metric(during, "hub_http_requests_total", **route, status="401") + _metric(
        during, "hub_http_requests_total", **route, status="404"
    )
    counted_before = _metric(before, "hub_http_requests_total", **route, status="401") + _metric(
        before, "hub_http_requests_total", **route, status="404"
    )
    assert counted - counted_before == 3
    assert _metric(during, "hub_http_request_duration_seconds_count", **route) >= 3
    assert _metric(during, "hub_websocket_connections", kind="room") == 1
    assert _metric(during, "hub_validation_queue_depth") == 0


def test_validation_metrics_come_from_the_database(client, jobs_settings, tiny_repo):
    revision = publish_bytes(tiny_repo, {"README.md": b"# timed\n"})
    now = timezone.now()
    ValidationRun.objects.create(
        revision=revision, status=ValidationRun.Status.PASSED, started=now - timedelta(seconds=45), finished=now
    )
    ValidationRun.objects.create(revision=revision, status=ValidationRun.Status.QUEUED)
    with override_settings(HUB_METRICS_TOKEN=METRICS_TOKEN):
        text = _sorted_labels(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}").content.decode())
    assert _metric(text, "hub_validation_queue_depth") == 1
    passed = {"status": "passed"}
    assert _metric(text, "hub_validation_run_duration_seconds_count", **passed) == 1
    assert _metric(text, "hub_validation_run_duration_seconds_bucket", **passed, le="30.0") == 0
    assert _metric(text, "hub_validation_run_duration_seconds_bucket", **passed, le="60.0") == 1
    assert _metric(text, "hub_validation_run_duration_seconds_sum", **passed) == 45


def test_json_log_lines_carry_the_request_id(settings, capsys):
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": settings.LOGGING["filters"],
        "formatters": settings.LOGGING["formatters"],
        "handlers": {
            "probe": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "json"},
        },
        "loggers": {"hub.tests.json": {"handlers": ["probe"], "level": "INFO", "propagate": False}},
    }
    logging.config.dictConfig(config)
    token = requestid.bind("abc123")
    try:
        logging.getLogger("hub.tests.json").info("uploaded %s", "model.safetensors")
    finally:
        requestid.unbind(token)
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["request_id"] == "abc123"
    assert line["message"] == "uploaded model.safetensors" and line["level"] == "INFO"
