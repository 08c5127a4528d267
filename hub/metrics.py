"""Prometheus metrics (prometheus-client) and the ``/metrics`` endpoint.

Each web process counts its own requests, latencies and open websockets
(``hub/observe.py`` feeds them), so Prometheus scrapes every web process on its
own port, not through nginx (deploy/nginx.conf refuses ``/metrics``). Capabilities
add collectors of their own (validation's queue depth and run durations,
``models_app/validation/metrics.py``), read from the database at scrape time,
so they are the same from every process: query them with ``max``, not ``sum``.

``/metrics`` is not public: it answers only a request with
``Authorization: Bearer $HUB_METRICS_TOKEN``; with no token set it is off (404).
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

from hub.api import error_response

REQUESTS = Counter("hub_http_requests", "HTTP requests answered by this process", ["method", "route", "status"])
LATENCY = Histogram(
    "hub_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer (downloads and uploads included)",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
WEBSOCKETS = Gauge("hub_websocket_connections", "Open websocket connections in this process", ["kind"])


def token_allows(request: HttpRequest) -> bool:
    expected = settings.HUB_METRICS_TOKEN
    if not expected:
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())


def metrics(request: HttpRequest) -> HttpResponse:
    # 404, not 401: an unauthorised caller learns nothing about whether metrics exist.
    if not token_allows(request):
        return error_response("Not found.", 404)
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
