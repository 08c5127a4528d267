"""The web server's command line, in one place.

``manage.py runhub``, the tests' ``LiveHub`` and the benches all start the
server this way, so what is tested and measured is what runs. uvicorn serves
HTTP and websockets (its ``websockets`` protocol is what the rooms' fast
fan-out writes to, discussions/fastsend.py); ``hub/asgi.py`` widens its body
read-ahead for uploads (``HUB_HTTP_BODY_BUFFER``).
"""

from __future__ import annotations

import os
import sys

# A large upload arrives as a stream of multi-MiB buffers. By default glibc maps and
# unmaps each one, a page fault per 4 KiB every time: about 100,000 faults and a third
# of a second of CPU per GiB received (bench/bench_ingest.py, with and without). Below
# 32 MiB the heap serves them, and up to 256 MiB of freed heap is kept for the next.
# The validation worker uses the same idea with larger figures (validation/runner.py).
MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456"


def command(host: str, port: int, *, proxy_headers: bool = False, log_level: str = "info") -> list[str]:
    """argv for one web server process serving ``hub.asgi:application``."""
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "hub.asgi:application",
        "--host",
        host,
        "--port",
        str(port),
        "--http",
        "httptools",
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
