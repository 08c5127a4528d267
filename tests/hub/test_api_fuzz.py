"""Property-based fuzzing of every API operation in the OpenAPI schema, against a live hub.

schemathesis generates requests from the schema drf-spectacular serves
(``/api/schema/``) and sends them to a real uvicorn (``LiveHub``), so a dropped
connection shows as one, as a user would see it. Each case goes out with a
write or a read token, against names the generator made up or against a repo
that exists and holds files (so lookups get past the 404). The property: no
5xx and no dropped connection. The examples per operation are bounded to keep
the whole run to a couple of minutes on two cores.
"""

from __future__ import annotations

import json
import re

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import strategies as st

pytestmark = [pytest.mark.live, pytest.mark.slow]

# Examples per operation: about 30 operations, one request each; 40 runs in about a minute.
MAX_EXAMPLES = 40
OWNER, NAME = "fuzz", "seeded"


@pytest.fixture(scope="module")
def fuzz_tokens(live_hub) -> dict[str, str]:
    tokens = {scope: live_hub.create_token(OWNER, scope) for scope in ("write", "read")}
    auth = {"Authorization": f"Bearer {tokens['write']}"}
    created = requests.post(f"{live_hub.url}/api/models", json={"name": NAME}, headers=auth, timeout=30)
    assert created.status_code == 201, created.text
    files = [
        ("file", ("config.json", json.dumps({"model_type": "bert"}).encode())),
        ("file", ("README.md", b"---\nlicense: mit\n---\n# Seeded\n")),
        ("file", ("weights/model.safetensors", b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")),
    ]
    uploaded = requests.post(f"{live_hub.url}/api/models/{OWNER}/{NAME}/upload", files=files, headers=auth, timeout=30)
    assert uploaded.status_code == 201, uploaded.text
    return tokens


def fuzz_operation(operation, base_url: str, tokens: dict[str, str]) -> None:
    """Up to MAX_EXAMPLES generated cases of one operation; AssertionError on the first bad answer."""
    destroys_repo = operation.label == "DELETE /api/models/{owner}/{name}"
    # Valid requests by the schema, and invalid ones (wrong types, missing fields, out-of-range values).
    cases = st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in schemathesis.GenerationMode))
    seeds = st.sampled_from([None, "repo", "main"])  # made-up names, the seeded repo, its main branch

    @hypothesis.given(case=cases, scope=st.sampled_from(["write", "read"]), seed=seeds)
    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,  # nothing written to the working tree
        # The same examples on every run for a given schema: CI judges the code, not the draw.
        # Vary them by hand with a seed (`@hypothesis.seed`) when hunting for new failures.
        derandomize=True,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],  # no shrinking: bounded time
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    def one_case(case, scope, seed):
        if seed and not destroys_repo:
            known = {"owner": OWNER, "name": NAME}
            if seed == "main":
                known.update(dict.fromkeys(("rev", "rest", "revision"), "main"))
            for key, value in known.items():
                if key in (case.path_parameters or {}):
                    case.path_parameters[key] = value
            if isinstance(case.body, dict) and case.path_parameters:
                case.body.pop("name", None)  # a rename would take the seeded repo away from later cases
        try:
            response = case.call(base_url=base_url, headers={"Authorization": f"Bearer {tokens[scope]}"}, timeout=60)
        except requests.RequestException as exc:  # refused, reset, cut off mid-body, or no answer in time
            raise AssertionError(f"no answer ({scope} token): {exc!r}\n{case.as_curl_command()}") from None
        assert response.status_code < 500, (
            f"{response.status_code} ({scope} token): {response.text[:300]}\n{case.as_curl_command()}"
        )

    one_case()


def test_no_operation_answers_5xx_or_drops_the_connection(live_hub, fuzz_tokens):
    schema = schemathesis.openapi.from_url(f"{live_hub.url}/api/schema/?format=json")
    failures = []
    operations = [schema[path][method] for path in schema for method in schema[path]]
    assert len(operations) > 20  # the whole API, not an empty schema
    for operation in operations:
        try:
            fuzz_operation(operation, live_hub.url, fuzz_tokens)
        except Exception as exc:  # noqa: BLE001 - one run reports every operation that failed, then fails
            failures.append(f"{operation.label}: {type(exc).__name__}: {exc}")
    assert not failures, "\n\n".join(failures) + "\n\nexceptions in the hub's log:\n" + logged_exceptions(live_hub)


def logged_exceptions(hub) -> str:
    """The exception lines of the hub's tracebacks (the log also has a line per 4xx)."""
    lines = hub.log("web").splitlines()
    found = {line for line in lines if re.match(r"^[\w.]+(Error|Exception|Warning)\b.*:", line)}
    return "\n".join(sorted(found))
