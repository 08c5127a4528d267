"""The whole stack on loopback: the ASGI server answers pages, /healthz and the API."""

from __future__ import annotations

import json
import urllib.request


def test_live_hub_serves_home_health_and_api(live_hub):
    with urllib.request.urlopen(live_hub.url + "/") as response:
        assert response.status == 200 and b"TransferHub" in response.read()
    with urllib.request.urlopen(live_hub.url + "/healthz") as response:
        assert json.load(response)["status"] == "ok"
    token = live_hub.create_token("erin", "read")
    request = urllib.request.Request(live_hub.url + "/api/whoami-v2", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as response:
        assert json.load(response)["name"] == "erin"


def test_production_command_serves_the_same_app(tmp_path):
    """``python -m hub.webserver`` (the production command) runs the hub's server with several workers."""
    import subprocess
    import sys
    import time

    from tests.live import ROOT, LiveHub, free_port

    hub = LiveHub(tmp_path / "prod")
    hub.manage("migrate", "--noinput", "-v0")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub.webserver", "--port", str(port), "--workers", "2", "--log-level", "warning"],
        cwd=ROOT,
        env=hub.env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert json.load(response)["status"] == "ok"
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "the production command did not serve"
                time.sleep(0.2)
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) is not None
