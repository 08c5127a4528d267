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
