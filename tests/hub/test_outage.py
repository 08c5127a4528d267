"""A database that does not answer: 503 with a sentence (JSON for clients, a page for browsers), never a traceback.

The web process runs in production mode (no debug pages) against a PostgreSQL
address where nothing listens, so every database call is refused. The cluster
tests (tests/cluster/) take a running hub's database away and back.
"""

from __future__ import annotations

import subprocess
import time

import httpx
import pytest

from hub import outage
from tests.live import ROOT, LiveHub, free_port, webserver

pytestmark = [pytest.mark.live]


@pytest.fixture(scope="module")
def hub_without_database(tmp_path_factory):
    hub = LiveHub(
        tmp_path_factory.mktemp("no-db"),
        extra_env={
            "DATABASE_URL": f"postgres://nobody@127.0.0.1:{free_port()}/gone",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "outage-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
        },
    )
    hub._pg_name = None  # its database is the unreachable one above: nothing to drop
    hub.data_dir.mkdir(parents=True, exist_ok=True)
    hub.manage("collectstatic", "--noinput", "-v0")  # production mode serves hashed names; no database needed
    log = open(hub.data_dir / "web.log", "ab")  # noqa: SIM115 - closed with the process
    hub.processes["web"] = subprocess.Popen(
        webserver.command("127.0.0.1", hub.port, log_level="warning"),
        cwd=ROOT,
        env=hub.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:  # /livez needs no database: it answers as soon as the server listens
        try:
            if httpx.get(f"{hub.url}/livez").status_code == 200:
                break
        except httpx.TransportError:
            assert time.monotonic() < deadline, hub.log("web")[-3000:]
            time.sleep(0.1)
    yield hub
    hub.stop()


def _no_traceback(answer: httpx.Response) -> None:
    assert "Traceback" not in answer.text and "OperationalError" not in answer.text and "psycopg" not in answer.text


@pytest.mark.parametrize(
    "path",
    [
        "/api/models/alice/bert",  # Django REST framework
        "/api/models/alice/bert/revision/main",  # the Hugging Face protocol
        "/alice/bert/resolve/main/config.json",  # the raw-bytes download route
    ],
)
def test_api_calls_get_a_json_503(hub_without_database, path):
    answer = httpx.get(f"{hub_without_database.url}{path}", headers={"Authorization": "Bearer thub_x"})
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"] == outage.MESSAGE
    assert answer.headers["x-request-id"]
    _no_traceback(answer)


def test_an_upload_gets_a_json_503(hub_without_database):
    answer = httpx.put(
        f"{hub_without_database.url}/api/models/alice/bert/upload/weights.bin",
        content=b"x" * 1000,
        headers={"Authorization": "Bearer thub_x"},
    )
    assert answer.status_code == 503 and answer.json()["error"] == outage.MESSAGE
    _no_traceback(answer)


def test_pages_get_a_readable_503_page(hub_without_database):
    for path in ("/", "/alice/bert", "/models?search=bert"):
        answer = httpx.get(f"{hub_without_database.url}{path}", headers={"Accept": "text/html"})
        assert answer.status_code == 503, (path, answer.status_code)
        assert answer.headers["content-type"].startswith("text/html")
        assert "briefly unavailable" in answer.text and answer.headers["retry-after"] == "10"
        _no_traceback(answer)


def test_probes_say_alive_but_not_ready(hub_without_database):
    assert httpx.get(f"{hub_without_database.url}/livez").status_code == 200
    ready = httpx.get(f"{hub_without_database.url}/readyz")
    assert ready.status_code == 503 and ready.json()["down"] == ["database"]
