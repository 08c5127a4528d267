"""The web server's command line, in one place.

``manage.py runhub``, the tests' ``LiveHub`` and the benches all start the
server this way, so what is tested and measured is what runs. uvicorn serves
HTTP and websockets (its ``websockets`` protocol is what the rooms' fast
fan-out writes to, discussions/fastsend.py); ``tune_uvicorn``, called by
``hub/asgi.py`` in each worker, widens its body read-ahead for uploads.
"""

from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger(__name__)

# uvicorn's httptools protocol, minus its copies of request bodies (hub/httpproto.py).
HTTP_PROTOCOL = "hub.httpproto:HubHttpProtocol"

# HUB_HTTP_BODY_BUFFER's default: request body bytes uvicorn reads ahead per connection.
DEFAULT_BODY_BUFFER = 4 * 1024 * 1024

# A large upload arrives as a stream of multi-MiB buffers. By default glibc maps and
# unmaps each one, a page fault per 4 KiB every time: about 100,000 faults and a third
# of a second of CPU per GiB received (bench/bench_ingest.py, with and without). Below
# 32 MiB the heap serves them, and up to 256 MiB of freed heap is kept for the next.
# The validation worker uses the same idea with larger figures (validation/runner.py).
MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456"


def command(
    host: str,
    port: int,
    *,
    proxy_headers: bool = False,
    log_level: str = "info",
    app: str = "hub.asgi:application",
    http: str = HTTP_PROTOCOL,
) -> list[str]:
    """argv for one web server process serving ``app`` (the hub; benches pass their own floor app and protocol)."""
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        host,
        "--port",
        str(port),
        "--http",
        http,
        "--ws",
        "websockets",
        "--lifespan",
        "off",
        "--log-level",
        log_level,
    ]
    if proxy_headers:
        argv.append("--proxy-headers")  # client addresses from X-Forwarded-For (FORWARDED_ALLOW_IPS)
    return argv


def environ(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the web server: ``base`` (default: this process's) with the malloc tuning."""
    env = dict(os.environ if base is None else base)
    env.setdefault("GLIBC_TUNABLES", MALLOC_TUNABLES)  # an operator's own setting wins
    return env


def tune_uvicorn(body_buffer: int) -> None:
    """Let uvicorn read ``body_buffer`` bytes of a request body ahead instead of 64 KiB.

    uvicorn's httptools protocol (and the hub's, hub/httpproto.py, which reads
    the same limit) stops reading the socket once 64 KiB of body wait for the
    app, and resumes on the next ``receive()``: for a large upload that is a
    pause, a wake-up and a resume every 256 KiB read, which made uvicorn's own
    delivery of 1 GiB cost twice ``sha256`` of it (``bench/bench_ingest.py``
    prints that floor). Its limit is a module constant read on every body
    chunk, so setting it in each worker process is enough; other servers are
    not affected.
    """
    try:
        from uvicorn.protocols.http import httptools_impl
    except ImportError:  # uvicorn[standard] not installed: nothing to tune
        return
    if hasattr(httptools_impl, "HIGH_WATER_LIMIT"):
        httptools_impl.HIGH_WATER_LIMIT = max(body_buffer, 64 * 1024)
    else:  # pragma: no cover - a uvicorn that reorganised its flow control
        log.warning("uvicorn's body flow control changed; HUB_HTTP_BODY_BUFFER has no effect")
