"""The web server's command line, in one place.

``manage.py runhub`` (``make run``), the production command
(``python -m hub.webserver``, see docs/benchmarks.md and
deploy/nginx.conf), the tests' ``LiveHub`` and the benches all start the
server through ``command``, so what is tested and measured is what runs.

The server is stock uvicorn with public options only: httptools for HTTP and
the ``websockets-sansio`` protocol for the rooms. It was chosen over granian by
``bench/bench_room_fanout.py`` (a room's fan-out goes through each socket's
ASGI send, which granian hands to another thread) and because it reads client
addresses from ``X-Forwarded-For`` behind nginx (``--proxy-headers``), which
the download counting uses; docs/benchmarks.md has the figures.
"""

from __future__ import annotations

import argparse
import os
import sys


def command(
    host: str,
    port: int,
    *,
    proxy_headers: bool = False,
    workers: int = 1,
    log_level: str = "info",
    app: str = "hub.asgi:application",
) -> list[str]:
    """argv for the web server serving ``app`` (the hub; benches pass their own floor app)."""
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
        "httptools",
        "--ws",
        "websockets-sansio",
        # Room frames are small JSON sent to every socket of a room: deflating each copy per socket costs
        # CPU for every delivery and saves little (the room sent uncompressed frames before, too).
        "--ws-per-message-deflate",
        "false",
        "--lifespan",
        "off",  # Django answers no lifespan events
        "--log-level",
        log_level,
    ]
    if proxy_headers:
        argv.append("--proxy-headers")  # client addresses from X-Forwarded-For (FORWARDED_ALLOW_IPS)
    if workers > 1:
        argv += ["--workers", str(workers)]
    return argv


def main(args: list[str] | None = None) -> None:
    """``python -m hub.webserver``: the web server alone, as production runs it behind nginx."""
    parser = argparse.ArgumentParser(prog="python -m hub.webserver", description=main.__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-proxy-headers", action="store_true", help="ignore X-Forwarded-For (no proxy in front)")
    parser.add_argument("--log-level", default="info")
    options = parser.parse_args(args)
    argv = command(
        options.host,
        options.port,
        proxy_headers=not options.no_proxy_headers,
        workers=options.workers,
        log_level=options.log_level,
    )
    os.execv(argv[0], argv)  # noqa: S606 - the server takes this process over: signals reach it directly


if __name__ == "__main__":
    main()
