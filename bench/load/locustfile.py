"""Locust load for the hub: people who browse, search, list and download, and people who chat.

Run by bench/load/run.sh (headless, 200 users for 2 minutes) against the cluster and against
one-machine mode; docs/benchmarks.md, "Load". Reads two variables:

- ``LOAD_TOKENS``: a file with one ``username token`` pair a line (write tokens), made by
  bench/load/make_tokens.py. Each chatting user posts as an account of its own, so the per-user
  chat limit (``HUB_CHAT_RATE_MESSAGES`` per ``HUB_CHAT_RATE_SECONDS``) is never the bottleneck.
- ``LOAD_MODELS``: the models to visit, download from and chat in (default
  ``demo/tiny-bert,zoo/mnist-resnet-0``).

Request names are what the summary groups by: ``/<model>`` for every model page, and so on.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import websocket  # websocket-client: blocking sockets, which locust's gevent makes cooperative
from locust import User, between, task
from locust.contrib.fasthttp import FastHttpUser

MODELS = [m.strip() for m in os.environ.get("LOAD_MODELS", "demo/tiny-bert,zoo/mnist-resnet-0").split(",") if m]
# Small and bigger files of every model in MODELS (both zoo and demo models carry these two).
SMALL_FILE = "config.json"
BIG_FILE = "model.safetensors"
SEARCH_WORDS = ["bert", "mnist", "resnet", "tiny", "nothing-matches-this"]
# A frame that does not come in this long counts as a failure (a stall), not a slow success.
WS_TIMEOUT = 30.0


def _read_tokens() -> list[tuple[str, str]]:
    path = os.environ.get("LOAD_TOKENS")
    if not path:
        return []
    pairs = []
    for line in Path(path).read_text().splitlines():
        if line.strip():
            user, token = line.split()
            pairs.append((user, token))
    return pairs


TOKENS = _read_tokens()
_next_account = itertools.count()


class Visitor(FastHttpUser):
    """Someone on the website and the API without an account: pages, search, lists, downloads."""

    weight = 4
    wait_time = between(1, 3)

    @task(3)
    def home(self):
        self.client.get("/", name="/")

    @task(4)
    def model_page(self):
        self.client.get(f"/{random.choice(MODELS)}", name="/<model>")

    @task(2)
    def search_page(self):
        self.client.get(f"/models?search={random.choice(SEARCH_WORDS)}", name="/models?search=")

    @task(2)
    def search_api(self):
        self.client.get(f"/api/models?search={random.choice(SEARCH_WORDS)}", name="/api/models?search=")

    @task(3)
    def list_api(self):
        self.client.get("/api/models?limit=50", name="/api/models")

    @task(2)
    def download_small(self):
        # In S3 mode the hub answers 302 to a presigned URL; the client follows it, as
        # huggingface_hub does, so the time is the whole download.
        self.client.get(
            f"/{random.choice(MODELS)}/resolve/main/{SMALL_FILE}", name=f"/<model>/resolve/main/{SMALL_FILE}"
        )

    @task(1)
    def download_big(self):
        self.client.get(f"/{random.choice(MODELS)}/resolve/main/{BIG_FILE}", name=f"/<model>/resolve/main/{BIG_FILE}")


class Chatter(User):
    """Someone who opens a model's room, posts a message and waits to see it come back.

    Each task is one visit: connect (the hub sends ``hello``), post with a fresh ``client_id``,
    read frames until the hub broadcasts that message back, close. Locust has no websocket user;
    results go to its statistics through ``events.request``.
    """

    weight = 1
    wait_time = between(2, 5)

    def on_start(self):
        if not TOKENS:
            raise RuntimeError("LOAD_TOKENS names no tokens: run bench/load/make_tokens.py first")
        self.username, self.token = TOKENS[next(_next_account) % len(TOKENS)]
        host = urlsplit(self.host)
        scheme = "wss" if host.scheme == "https" else "ws"
        self.ws_base = f"{scheme}://{host.netloc}/ws/models"

    def _fire(self, name: str, started: float, length: int = 0, exc: Exception | None = None):
        self.environment.events.request.fire(
            request_type="WS",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=length,
            exception=exc,
            context={},
        )

    def _receive(self, ws) -> dict:
        frame = json.loads(ws.recv())
        if frame.get("type") == "error":
            raise RuntimeError(f"{frame.get('code')}: {frame.get('message')}")
        return frame

    @task
    def visit_room(self):
        model = random.choice(MODELS)
        started = time.perf_counter()
        try:
            # No Origin: programs authenticate with their token (docs/discussions.md).
            ws = websocket.create_connection(
                f"{self.ws_base}/{model}/",
                header=[f"Authorization: Bearer {self.token}"],
                suppress_origin=True,
                timeout=WS_TIMEOUT,
            )
            hello = self._receive(ws)
            if hello.get("type") != "hello" or not hello.get("can_post"):
                raise RuntimeError(f"unexpected first frame {hello}")
        except Exception as exc:  # noqa: BLE001 - any failure is a failed request in the report
            self._fire("ws connect", started, exc=exc)
            return
        self._fire("ws connect", started)

        client_id = uuid.uuid4().hex
        body = f"load test message from {self.username}"
        started = time.perf_counter()
        try:
            ws.send(json.dumps({"type": "message", "body": body, "client_id": client_id}))
            while True:  # other people's messages and presence frames come first; skip them
                frame = self._receive(ws)
                if frame.get("type") == "message" and frame.get("client_id") == client_id:
                    break
            self._fire("ws message round trip", started, length=len(body))
        except Exception as exc:  # noqa: BLE001
            self._fire("ws message round trip", started, exc=exc)
        finally:
            ws.close()
