"""Several web processes share rooms through Redis, and survive a Redis restart."""

from __future__ import annotations

import subprocess
import time
import urllib.request

import pytest

from discussions.relay import SWEEP_SECONDS
from hub import webserver
from tests.discussions.live_client import RoomClient, make_repo
from tests.live import ROOT, LiveHub, free_port, start_redis

pytestmark = [pytest.mark.live, pytest.mark.slow, pytest.mark.redis]


def start_second_web(hub: LiveHub) -> str:
    """Another web server process on the same database and Redis; returns its base URL."""
    port = free_port()
    log = open(hub.data_dir / "web2.log", "ab")  # noqa: SIM115 - closed with the process
    hub.processes["web2"] = subprocess.Popen(
        webserver.command("127.0.0.1", port, log_level="warning"),
        cwd=ROOT, env=hub.env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return url
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(hub.log("web2"))


async def test_two_web_processes_sharing_redis_deliver_to_each_others_clients(redis_url, tmp_path):
    with LiveHub(tmp_path, extra_env={"REDIS_URL": redis_url}) as hub:
        second = start_second_web(hub)
        alice, bob = hub.create_token("alice"), hub.create_token("bob")
        make_repo(hub, "alice", "shared-bert")
        on_one = await RoomClient(hub.url, "alice/shared-bert", alice).open()
        on_two = await RoomClient(second, "alice/shared-bert", bob).open()
        await on_one.post("from process one")
        assert (await on_two.next("message"))["body"] == "from process one"
        await on_two.post("from process two")
        assert [m["body"] for m in await _all(on_one, 2)] == ["from process one", "from process two"]
        await on_one.close()
        await on_two.close()


async def _all(client: RoomClient, last: int) -> list[dict]:
    await client.wait_for_ids(last)
    return client.messages


async def test_redis_restart_mid_chat_loses_no_saved_message(redis_server_binary, tmp_path):
    port = free_port()
    redis_proc = start_redis(redis_server_binary, port, tmp_path)
    try:
        with LiveHub(tmp_path / "hub", extra_env={"REDIS_URL": f"redis://127.0.0.1:{port}/0"}) as hub:
            second = start_second_web(hub)
            alice, bob = hub.create_token("alice"), hub.create_token("bob")
            make_repo(hub, "alice", "restart-bert")
            on_one = await RoomClient(hub.url, "alice/restart-bert", alice).open()
            on_two = await RoomClient(second, "alice/restart-bert", bob).open()
            await on_one.post("m1")
            await on_two.wait_for_ids(1)

            redis_proc.terminate()
            redis_proc.wait(timeout=10)
            await on_one.post("m2 while Redis is down")  # saved; only process one's sockets see it now
            await on_one.post("m3 while Redis is down")
            await on_one.wait_for_ids(3)
            redis_proc = start_redis(redis_server_binary, port, tmp_path)

            # Redis going away does not close the sockets. Process two's relay finds the gap
            # itself (discussions/relay.py): its periodic sweep joins the room's group again on
            # the new Redis, sees the room's last seq ahead of its own and reads m2 and m3 from
            # the database. So they reach the socket that was open all along, before anything
            # else is posted and without the client asking for history.
            assert await on_two.wait_for_ids(3, timeout=2 * SWEEP_SECONDS + 20) == [1, 2, 3]
            await on_two.post("m4 after the restart")  # on the same socket: it is still open
            for client in (on_one, on_two):
                ids = await client.wait_for_ids(4)
                assert ids == [1, 2, 3, 4]
            assert [m["body"] for m in on_two.messages][:3] == [
                "m1",
                "m2 while Redis is down",
                "m3 while Redis is down",
            ]
            await on_one.close()
            await on_two.close()
    finally:
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
