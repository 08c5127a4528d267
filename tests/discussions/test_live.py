"""The room over real sockets: a live hub (uvicorn) on loopback and ``websockets`` clients."""

from __future__ import annotations

import re

import pytest
import websockets

from tests.discussions.live_client import RoomClient, make_repo
from tests.hub.test_markdown import DANGEROUS, XSS_CORPUS

pytestmark = [pytest.mark.live, pytest.mark.slow]


@pytest.fixture(scope="module")
def room(live_hub):
    tokens = {name: live_hub.create_token(name, "write") for name in ("dana", "eli", "fay")}
    make_repo(live_hub, "dana", "talk-bert")
    make_repo(live_hub, "dana", "hidden-bert", private=True)
    return live_hub, tokens


async def test_two_clients_exchange_messages_in_order(room):
    hub, tokens = room
    dana = await RoomClient(hub.url, "dana/talk-bert", tokens["dana"]).open()
    eli = await RoomClient(hub.url, "dana/talk-bert", tokens["eli"]).open()
    start = dana.hello["last_id"]
    for n in range(3):
        await dana.post(f"dana {n}", client_id=f"d{n}")
        await eli.post(f"eli {n}", client_id=f"e{n}")
    want = list(range(start + 1, start + 7))
    assert await dana.wait_for_ids(start + 6) == want
    assert await eli.wait_for_ids(start + 6) == want
    assert [m["body"] for m in dana.messages] == [m["body"] for m in eli.messages]
    assert sorted(m["body"] for m in eli.messages) == sorted(
        [f"dana {n}" for n in range(3)] + [f"eli {n}" for n in range(3)]
    )
    await dana.close()
    await eli.close()


async def test_reconnect_receives_exactly_what_was_missed(room):
    hub, tokens = room
    dana = await RoomClient(hub.url, "dana/talk-bert", tokens["dana"]).open()
    eli = await RoomClient(hub.url, "dana/talk-bert", tokens["eli"]).open()
    await dana.post("before the drop")
    seen = await eli.wait_for_ids(dana.hello["last_id"] + 1)
    await eli.close()
    for n in range(3):
        await dana.post(f"missed {n}")
    await dana.wait_for_ids(seen[-1] + 3)

    again = RoomClient(hub.url, "dana/talk-bert", tokens["eli"])
    again.messages = list(eli.messages)
    await again.open()
    assert again.hello["last_id"] == seen[-1] + 3
    missed = await again.resync()
    assert [m["body"] for m in missed] == ["missed 0", "missed 1", "missed 2"]
    await dana.post("after the reconnect")
    ids = await again.wait_for_ids(seen[-1] + 4)
    assert ids == sorted(set(ids)), "no duplicates, in order"
    await dana.close()
    await again.close()


async def test_xss_corpus_arrives_inert(room):
    hub, tokens = room
    fay = await RoomClient(hub.url, "dana/talk-bert", tokens["fay"]).open()
    start = fay.hello["last_id"]
    for payload in XSS_CORPUS[:8]:
        await fay.post(payload)
    await fay.wait_for_ids(start + 8)
    for frame in fay.messages:
        tags = re.findall(r"<[^>]+>", frame["html"])
        assert not any(DANGEROUS.search(tag) for tag in tags), frame["html"]
    await fay.close()


async def test_foreign_origin_refused_and_own_origin_admitted(room):
    hub, _ = room
    with pytest.raises(websockets.InvalidStatus) as err:
        await RoomClient(hub.url, "dana/talk-bert", origin="https://evil.example").open()
    assert err.value.response.status_code == 403
    page = await RoomClient(hub.url, "dana/talk-bert", origin=hub.url).open()
    await page.close()


async def test_anonymous_reads_but_posting_is_refused(room):
    hub, _ = room
    anon = await RoomClient(hub.url, "dana/talk-bert").open()
    assert anon.hello["can_post"] is False and anon.hello["user"] is None
    await anon.post("let me in")
    assert (await anon.next("error"))["code"] == "not_allowed"
    await anon.close()


async def test_rate_limit_enforced_with_a_clear_error(room):
    hub, _ = room
    token = hub.create_token("gus", "write")
    gus = await RoomClient(hub.url, "dana/talk-bert", token).open()
    for n in range(11):  # the default limit is 10 per 10 s
        await gus.post(f"flood {n}")
    error = await gus.next("error")
    assert error["code"] == "rate_limited" and "at most 10 messages" in error["message"]
    await gus.close()


async def test_banned_user_reads_but_cannot_post(room):
    hub, tokens = room
    token = hub.create_token("hal", "write")
    dana = await RoomClient(hub.url, "dana/talk-bert", tokens["dana"]).open()
    await dana.ws.send('{"type": "ban", "user": "hal", "minutes": 60}')
    assert (await dana.next("banned"))["user"] == "hal"
    hal = await RoomClient(hub.url, "dana/talk-bert", token).open()
    assert hal.hello["can_post"] is False
    await hal.post("I am back")
    error = await hal.next("error")
    assert error["code"] == "not_allowed" and "banned" in error["message"]
    await dana.post("still open for others")
    assert (await hal.next("message"))["body"] == "still open for others"
    await dana.close()
    await hal.close()


async def test_private_room_refuses_outsiders(room):
    hub, tokens = room
    for token in (tokens["eli"], None):
        with pytest.raises(websockets.InvalidStatus):
            await RoomClient(hub.url, "dana/hidden-bert", token).open()
    owner = await RoomClient(hub.url, "dana/hidden-bert", tokens["dana"]).open()
    await owner.close()


async def test_turning_private_from_another_process_closes_outsiders_sockets(live_hub):
    """An operator's process flips the repo private; the web process closes noa's socket and keeps kai's."""
    tokens = {name: live_hub.create_token(name, "write") for name in ("kai", "noa")}
    make_repo(live_hub, "kai", "flip-bert")
    kai = await RoomClient(live_hub.url, "kai/flip-bert", tokens["kai"]).open()
    noa = await RoomClient(live_hub.url, "kai/flip-bert", tokens["noa"]).open()
    live_hub.manage(
        "shell",
        "-c",
        "from hub.models import User; from models_app.models import ModelRepo; from models_app.repos.rules import repo_update; "
        "repo_update(User.objects.get(username='kai'), ModelRepo.objects.get(name='flip-bert'), private=True)",
    )
    assert (await noa.next("error"))["code"] == "access_revoked"
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await noa.next("message")
    assert closed.value.rcvd.code == 4403
    await kai.post("still here")
    assert (await kai.next("message"))["body"] == "still here"
    await kai.close()
    with pytest.raises(websockets.InvalidStatus):
        await RoomClient(live_hub.url, "kai/flip-bert", tokens["noa"]).open()
