"""One room, many sockets: the hub's fan-out against a plain ``websockets`` broadcast server.

Both servers run in this same run on loopback and face the same load: N
picows clients (callback-based, so the load generator is not the bottleneck)
and one sender that posts a burst of M messages as fast as it can. For each
delivery the client notes the time since its message was sent. Printed:
deliveries per second (N*M over first send to last delivery) and p50/p99
latency for both, and the two ratios the issue asks for:
deliveries/s >= 0.5x and p99 <= 2x the plain server's.

    python bench/bench_room_fanout.py [--clients 1000] [--messages 40] [--rounds 4]

Set REDIS_URL to bench the hub with channels-redis (as a scaled-out
deployment runs); by default it runs in one-machine mode.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from picows import WSListener, WSMsgType, ws_connect  # noqa: E402

from tests.live import LiveHub, free_port  # noqa: E402

STAMP = re.compile(rb"t=(\d+\.\d+)")

PLAIN_SERVER = """
import asyncio, sys
import websockets
from websockets.asyncio.server import broadcast, serve

clients = set()

async def handler(ws):
    clients.add(ws)
    try:
        async for text in ws:
            broadcast(clients, text)
    finally:
        clients.discard(ws)

async def main():
    async with serve(handler, "127.0.0.1", int(sys.argv[1]), compression=None, max_queue=None):
        print("ready", flush=True)
        await asyncio.Future()

asyncio.run(main())
"""


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.last = 0.0
        self.hellos = 0


class Listener(WSListener):
    def __init__(self, stats: Stats):
        self.stats = stats

    def on_ws_frame(self, transport, frame) -> None:
        if frame.msg_type != WSMsgType.TEXT:
            return
        payload = frame.get_payload_as_bytes()
        match = STAMP.search(payload)
        now = time.perf_counter()
        if match:
            self.stats.latencies.append(now - float(match.group(1)))
            self.stats.last = now
        elif b'"hello"' in payload:
            self.stats.hellos += 1


async def connect_all(url: str, n: int, stats: Stats, headers=None) -> list:
    transports = []
    for start in range(0, n, 50):
        batch = [
            ws_connect(lambda: Listener(stats), url, extra_headers=headers, websocket_handshake_timeout=30)
            for _ in range(min(50, n - start))
        ]
        transports += [t for t, _ in await asyncio.gather(*batch)]
    return transports


class Load:
    """N listening clients and one sender on one server."""

    def __init__(self, name: str, n: int, frame_for):
        self.name, self.n, self.frame_for = name, n, frame_for
        self.stats = Stats()
        self.clients: list = []
        self.sender = None
        self.time = 0.0
        self.latencies: list[float] = []

    async def open(self, url: str, headers=None) -> None:
        self.clients = await connect_all(url, self.n, self.stats)
        (self.sender,) = await connect_all(url, 1, Stats(), headers)

    async def burst(self, m: int, offset: int, keep: bool) -> None:
        """Send m messages back to back; wait until all n*m deliveries arrived."""
        self.stats.latencies = []
        first = time.perf_counter()
        for i in range(m):
            self.sender.send(WSMsgType.TEXT, self.frame_for(offset + i, time.perf_counter()).encode())
            if i % 10 == 9:
                await asyncio.sleep(0)
        deadline = time.monotonic() + 120
        while len(self.stats.latencies) < self.n * m and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if len(self.stats.latencies) < self.n * m:
            print(f"  {self.name}: only {len(self.stats.latencies)} of {self.n * m} arrived", file=sys.stderr)
        if keep:
            self.time += self.stats.last - first
            self.latencies += self.stats.latencies

    def close(self) -> None:
        for t in [*self.clients, self.sender]:
            t.disconnect()

    def result(self) -> dict:
        lat = sorted(self.latencies)
        return {
            "deliveries_per_s": len(lat) / self.time,
            "p50_ms": 1000 * statistics.median(lat),
            "p99_ms": 1000 * lat[int(len(lat) * 0.99) - 1],
            "deliveries": len(lat),
        }


async def compare(plain_url: str, hub_url: str, hub_headers: dict, n: int, m: int, rounds: int) -> tuple[dict, dict]:
    """Bursts alternate between the two servers, so a noisy neighbour slows both alike."""
    plain, hub = Load("plain", n, plain_frame), Load("hub", n, hub_frame)
    await plain.open(plain_url)
    await hub.open(hub_url, hub_headers)
    await asyncio.sleep(1)
    for r in range(rounds + 1):  # round 0 warms up
        for load in (plain, hub) if r % 2 else (hub, plain):
            await load.burst(m, r * m, keep=r > 0)
            await asyncio.sleep(0.3)
    plain.close()
    hub.close()
    return plain.result(), hub.result()


def pad(i: int, ts: float) -> str:
    # About the size of the hub's message frame, so both servers move the same bytes.
    return f"t={ts:.6f} message {i} " + "x" * 60


def plain_frame(i: int, ts: float) -> str:
    return json.dumps(
        {"type": "message", "id": i, "kind": "user", "author": "bench", "body": pad(i, ts),
         "html": f"<p>{pad(i, ts)}</p>\n", "created": "2026-01-01T00:00:00+00:00", "edited": None,
         "deleted": False, "client_id": None, "reply_to": None, "reactions": []}
    )  # fmt: skip


def hub_frame(i: int, ts: float) -> str:
    return json.dumps({"type": "message", "body": pad(i, ts)})


async def bench(n: int, m: int, rounds: int, data_dir: Path) -> tuple[dict, dict]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", PLAIN_SERVER, str(port)], stdout=subprocess.PIPE)
    env = {"HUB_CHAT_RATE_MESSAGES": "1000000", "LOG_LEVEL": "WARNING"}
    try:
        proc.stdout.readline()
        with LiveHub(data_dir, extra_env=env) as hub:
            token = hub.create_token("bench", "write")
            hub.manage(
                "shell",
                "-c",
                "from hub.models import User; from models_app.models import ModelRepo; "
                "ModelRepo.objects.get_or_create(owner=User.objects.get(username='bench'), name='room')",
            )
            hub_url = hub.url.replace("http://", "ws://") + "/ws/models/bench/room/"
            return await compare(f"ws://127.0.0.1:{port}/", hub_url, {"Authorization": f"Bearer {token}"}, n, m, rounds)
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=40, help="messages per burst")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    mode = "channels-redis" if os.environ.get("REDIS_URL") else "one-machine (SQLite layer)"
    print(f"{args.clients} clients, bursts of {args.messages} messages x {args.rounds} rounds; hub layer: {mode}")
    with tempfile.TemporaryDirectory() as tmp:
        plain, hub = asyncio.run(bench(args.clients, args.messages, args.rounds, Path(tmp)))
    for name, r in (("plain websockets", plain), ("hub room", hub)):
        print(
            f"{name:17s} {r['deliveries_per_s']:9.0f} deliveries/s  p50 {r['p50_ms']:7.1f} ms  "
            f"p99 {r['p99_ms']:7.1f} ms  ({r['deliveries']} deliveries)"
        )
    print(f"deliveries/s ratio (hub / plain): {hub['deliveries_per_s'] / plain['deliveries_per_s']:.2f}x (want >= 0.5)")
    print(f"p99 latency ratio (hub / plain):  {hub['p99_ms'] / plain['p99_ms']:.2f}x (want <= 2)")


if __name__ == "__main__":
    main()
