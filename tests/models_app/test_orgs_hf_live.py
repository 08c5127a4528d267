"""Organizations with the unmodified Hugging Face client against a live hub (the acceptance test of issue 23).

alice creates ``acme`` and adds bob as contributor and carol as write; bob
creates ``acme/m`` and both push to it; dave, not a member, is refused (403).
The private ``acme/p`` is a 404 to dave over HTTP, the websocket and the listings.
Each test has its own users (the live hub is shared by the session).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

huggingface_hub = pytest.importorskip("huggingface_hub")
from huggingface_hub import HfApi, constants  # noqa: E402
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError  # noqa: E402

from tests.discussions.live_client import RoomClient  # noqa: E402

pytestmark = [pytest.mark.live]


@pytest.fixture
def hf_env(live_hub, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setattr(constants, "ENDPOINT", live_hub.url)
    monkeypatch.setattr(
        constants, "HUGGINGFACE_CO_URL_TEMPLATE", live_hub.url + "/{repo_id}/resolve/{revision}/{filename}"
    )
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    return live_hub


def test_org_members_push_by_role_and_outsiders_are_refused(hf_env):
    hub = hf_env
    # Unique names: the live hub is shared by the session.
    names = {who: f"{who}-org23" for who in ("alice", "bob", "carol", "dave")}
    tokens = {who: hub.create_token(name, "write") for who, name in names.items()}
    api = {who: HfApi(endpoint=hub.url, token=token) for who, token in tokens.items()}
    org = "acme-org23"

    def as_(who: str) -> dict:
        return {"Authorization": f"Bearer {tokens[who]}"}

    created = httpx.post(f"{hub.url}/api/organizations", json={"name": org}, headers=as_("alice"))
    assert created.status_code == 201, created.text
    for who, role in (("bob", "contributor"), ("carol", "write")):
        added = httpx.post(
            f"{hub.url}/api/organizations/{org}/members", json={"user": names[who], "role": role}, headers=as_("alice")
        )
        assert added.status_code == 200 and added.json()["role"] == role

    assert {o["name"]: o["roleInOrg"] for o in api["bob"].whoami()["orgs"]} == {org: "contributor"}
    assert {o["name"]: o["roleInOrg"] for o in api["alice"].whoami()["orgs"]} == {org: "admin"}
    assert api["dave"].whoami()["orgs"] == []

    repo_id = f"{org}/m"
    assert api["bob"].create_repo(repo_id).repo_id == repo_id  # a contributor creates repos in the org
    first = api["bob"].upload_file(path_or_fileobj=b"from bob\n", path_in_repo="bob.txt", repo_id=repo_id)
    second = api["carol"].upload_file(path_or_fileobj=b"from carol\n", path_in_repo="carol.txt", repo_id=repo_id)
    assert first.oid != second.oid
    assert {"bob.txt", "carol.txt"} <= set(api["alice"].list_repo_files(repo_id))

    # alice, the org's admin, sees which members' tokens wrote to its repos; a contributor does not.
    writes = httpx.get(f"{hub.url}/api/organizations/{org}/writes", headers=as_("alice")).json()["writes"]
    by = {(w["author"], w["token"]["scope"]) for w in writes if w["repo"] == repo_id}
    assert by == {(names["bob"], "write"), (names["carol"], "write")}
    assert all(tokens[w["author"].split("-")[0]].startswith(w["token"]["prefix"]) for w in writes)
    assert httpx.get(f"{hub.url}/api/organizations/{org}/writes", headers=as_("bob")).status_code == 403

    with pytest.raises(HfHubHTTPError) as refused:
        api["dave"].upload_file(path_or_fileobj=b"from dave\n", path_in_repo="dave.txt", repo_id=repo_id)
    assert refused.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as refused:
        api["dave"].create_repo(f"{org}/mine")
    assert refused.value.response.status_code == 403

    # The private repo: members see it, dave meets a 404 everywhere.
    private_id = api["alice"].create_repo(f"{org}/p", private=True).repo_id
    api["carol"].upload_file(path_or_fileobj=b"secret\n", path_in_repo="s.txt", repo_id=private_id)
    assert api["bob"].model_info(private_id).private is True
    with pytest.raises(RepositoryNotFoundError):
        api["dave"].model_info(private_id)
    assert httpx.get(f"{hub.url}/{private_id}/resolve/main/s.txt", headers=as_("dave")).status_code == 404
    assert httpx.get(f"{hub.url}/{private_id}", headers=as_("dave")).status_code == 404
    assert [m.id for m in api["dave"].list_models(author=org)] == [repo_id]
    assert sorted(m.id for m in api["bob"].list_models(author=org)) == sorted([repo_id, private_id])
    org_page = httpx.get(f"{hub.url}/{org}", headers=as_("dave")).text
    assert repo_id in org_page and private_id not in org_page

    async def sockets() -> None:
        with pytest.raises(Exception) as outsider:  # websockets.InvalidStatus: the handshake is refused
            await RoomClient(hub.url, private_id, tokens["dave"]).open()
        assert outsider.value.response.status_code in (403, 404)
        member = await RoomClient(hub.url, private_id, tokens["bob"]).open()
        await member.close()

    asyncio.run(sockets())
