"""Run huggingface_hub's own tests against a live hub and read the outcome back.

``python -m tests.hf_upstream.run [files...]`` starts a hub of its own and
prints the outcome per file and each failing test; the suite's
``test_upstream.py`` asserts the pass rate the issue asks for.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from tests.hf_upstream import scope, sdist
from tests.live import ROOT, LiveHub

USER, OTHER_USER = "hfh-ci-user", "hfh-ci-other"
# The client's suite is one user opening two discussions per test, a few tests a second: a script, not a
# person typing, so the hub it runs against lets one user post more often than the chat's default
# (10 per 10 s) would. The limit itself is tested in tests/discussions/test_threads.py.
HUB_ENV = {"HUB_CHAT_RATE_MESSAGES": "10000"}


@dataclass
class Outcome:
    passed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        ran = len(self.passed) + len(self.failed)
        return len(self.passed) / ran if ran else 0.0


def read_junit(path: Path) -> Outcome:
    outcome = Outcome()
    for case in ET.parse(path).getroot().iter("testcase"):
        node = f"{case.get('classname', '')}::{case.get('name', '')}"
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        skipped = case.find("skipped")
        if failure is not None:
            outcome.failed[node] = (failure.get("message") or "")[:300]
        elif skipped is not None:
            outcome.skipped[node] = (skipped.get("message") or "")[:200]
        else:
            outcome.passed.append(node)
    return outcome


def run_upstream(
    hub: LiveHub, workdir: Path, files: list[str], *, timeout: int = 1800, keyword: str | None = None
) -> Outcome:
    """Run ``files`` of the upstream tests against ``hub``; users and tokens are created here."""
    tests = sdist.fetch_tests(ROOT / "data" / "test-cache")
    users = {"USER": (USER, hub.create_token(USER)), "OTHER_USER": (OTHER_USER, hub.create_token(OTHER_USER))}
    # The upstream constants' FULL_NAME, which whoami() is compared with.
    hub.manage(
        "shell",
        "-c",
        f"from hub.models import User; User.objects.filter(username={USER!r}).update(first_name='Dummy', last_name='User')",
    )
    target = sdist.prepare(tests, workdir, endpoint=hub.url, users=users)
    hub.manage("org", "create", "valid_org_hub", "--admin", USER, "--fullname", "Dummy Hub Org")
    junit = Path(workdir) / "junit.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_", "DJANGO_"))}
    env.update({"HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_TELEMETRY": "1"})
    cmd = [sys.executable, "-m", "pytest", *[f"tests/{name}" for name in files], f"--junitxml={junit}", "-q"]
    cmd += ["-o", "timeout=120", "-x" if os.environ.get("HFU_FIRST_FAIL") else "-q"]
    if keyword:
        cmd += ["-k", keyword]
    for node in scope.deselected(target, files):
        cmd += ["--deselect", node]
    subprocess.run(
        cmd, cwd=workdir, env=env, timeout=timeout, stdout=sys.stderr if __name__ == "__main__" else subprocess.DEVNULL
    )
    return read_junit(junit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="*", default=scope.FILES)
    parser.add_argument("-k", dest="keyword", help="only the tests pytest's -k expression selects")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, LiveHub(Path(tmp) / "hub", extra_env=HUB_ENV) as hub:
        outcome = run_upstream(hub, Path(tmp) / "work", args.files, keyword=args.keyword)
        for node, why in sorted(outcome.failed.items()):
            print(f"FAIL {node}: {why}")
        print(f"passed {len(outcome.passed)} failed {len(outcome.failed)} skipped {len(outcome.skipped)}")
        print(f"pass rate {outcome.rate:.1%}")


if __name__ == "__main__":
    main()
