"""Hostile model cards are refused with a 4xx that names the rule, and cost the hub nothing."""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request

import pytest

from models_app.models import ModelRepo, Ref
from models_app.repos.card_yaml import MAX_DEPTH, MAX_FRONT_MATTER_BYTES, MAX_NODES
from models_app.repos.cards import parse_card
from tests.models_app.test_hf_commits import add, commit

# A "billion laughs": nine levels of nine aliases expand to 9^9 (387 million) strings from 350 bytes.
BILLION_LAUGHS = (
    "---\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
    + "license: mit\n---\n# A card\n"
)


def test_the_bomb_is_small_and_uses_aliases():
    assert len(BILLION_LAUGHS) < 400 and "*h" in BILLION_LAUGHS


@pytest.mark.parametrize(
    ("front_matter", "rule"),
    [
        ("a: &x [1, 2]\nb: *x", "aliases"),
        ("base: &b {license: mit}\n<<: *b", "aliases"),
        ("x: " + "[" * 5000 + "]" * 5000, "nest"),  # libyaml stops at 1,000, our own check at 32
        ("x: " + "{a: " * 40 + "1" + "}" * 40, f"deeper than {MAX_DEPTH} levels"),
        ("tags: [" + ", ".join("t" for _ in range(MAX_NODES + 1)) + "]", f"more than {MAX_NODES:,} values"),
        ("license_name: '" + "x" * MAX_FRONT_MATTER_BYTES + "'", "may be at most 256 KiB"),
        ('license_name: "a\\0b"', "NUL character"),
        ("co2_eq_emissions: .inf", "not a finite number"),
        ("co2_eq_emissions: " + "9" * 5000, "cannot be read"),
        ("license: mit\x00", "Invalid YAML"),
    ],
)
def test_hostile_front_matter_is_an_error_naming_the_rule(front_matter, rule):
    card = parse_card(f"---\n{front_matter}\n---\n# Card\n")
    assert len(card.errors) == 1 and rule in card.errors[0]
    assert "\n" not in card.errors[0]  # it ends up in an X-Error-Message header


def test_billion_laughs_is_refused_by_parse_card():
    card = parse_card(BILLION_LAUGHS)
    assert card.meta == {} and "aliases" in card.errors[0]


def test_a_plain_card_still_parses():
    card = parse_card("---\nlicense: mit\ndate: 2024-01-01\ntags: [a, b]\n---\n# A card with some text in it\n")
    assert card.errors == [] and card.meta == {"license": "mit", "date": "2024-01-01", "tags": ["a", "b"]}


def test_validate_yaml_answers_400_with_the_rule(write_client):
    for content in (BILLION_LAUGHS, "---\nlicense: mit\x00\n---\n", "---\nx: " + "[" * 5000 + "]" * 5000 + "\n---\n"):
        response = write_client.post(
            "/api/validate-yaml", data={"content": content, "repoType": "model"}, format="json"
        )
        assert response.status_code == 400, content[:40]
        assert response.json()["error"] and "\n" not in response["X-Error-Message"]


def test_a_commit_with_the_bomb_is_refused_and_leaves_nothing(owner, write_client):
    ModelRepo.objects.create(owner=owner, name="tiny")
    response = commit(write_client, "alice/tiny", add("README.md", BILLION_LAUGHS.encode()))
    assert response.status_code == 422
    assert "aliases" in response.json()["error"]
    assert not Ref.objects.filter(repo__name="tiny").exists()
    assert ModelRepo.objects.get(name="tiny").card_meta == {}


@pytest.mark.live
def test_live_hub_answers_others_while_refusing_the_bomb(live_hub):
    """The bomb is committed over HTTP while another user keeps browsing; both get normal answers."""
    token = live_hub.create_token("mallory", "write")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    create = urllib.request.Request(
        live_hub.url + "/api/repos/create", data=json.dumps({"name": "laughs"}).encode(), headers=headers
    )
    urllib.request.urlopen(create, timeout=30).close()

    lines = [
        {"key": "header", "value": {"summary": "a card"}},
        {
            "key": "file",
            "value": {
                "path": "README.md",
                "encoding": "base64",
                "content": base64.b64encode(BILLION_LAUGHS.encode()).decode(),
            },
        },
    ]
    body = "\n".join(json.dumps(line) for line in lines).encode()
    bomb = urllib.request.Request(
        live_hub.url + "/api/models/mallory/laughs/commit/main",
        data=body,
        headers={**headers, "Content-Type": "application/x-ndjson"},
    )
    browsing: list[int] = []
    stop = threading.Event()

    def browse():
        while not stop.is_set() or len(browsing) < 5:
            with urllib.request.urlopen(live_hub.url + "/api/models?limit=5", timeout=10) as response:
                browsing.append(response.status)

    browser = threading.Thread(target=browse)
    browser.start()
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bomb, timeout=30)
    finally:
        stop.set()
        browser.join(timeout=60)
    assert refused.value.code == 422
    assert "aliases" in json.load(refused.value)["error"]
    assert browsing and set(browsing) == {200}
    with urllib.request.urlopen(live_hub.url + "/api/models/mallory/laughs", timeout=10) as response:
        assert json.load(response).get("cardData") in (None, {})
