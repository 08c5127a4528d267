"""The cluster tests: they talk to a cluster `make cluster` started (nginx, two web processes, workers, Redis, S3).

They run only where ``HUB_CLUSTER_URL`` names it (``.ci/run`` sets it after
``make cluster``); a one-machine run skips them with that reason. They drive the
cluster as an operator would: ``deploy/cluster.sh manage`` and ``ctl``
(supervisorctl), and the database server's own commands.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.live import ROOT

SKIP_REASON = "needs a running cluster: make cluster, then HUB_CLUSTER_URL=http://127.0.0.1:8080 (.ci/run does both)"


def pytest_configure(config):
    config.addinivalue_line("markers", f"cluster: {SKIP_REASON}")


@dataclass
class Cluster:
    url: str  # nginx
    web_urls: list[str]  # each web process, directly
    cas_urls: list[str]  # each Xet CAS process, directly (nginx sends /xet/ to them)
    dir: Path

    def _run(self, *args: str, timeout: int = 300) -> str:
        result = subprocess.run(
            [str(ROOT / "deploy" / "cluster.sh"), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise RuntimeError(f"deploy/cluster.sh {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def manage(self, *args: str, timeout: int = 300) -> str:
        return self._run("manage", *args, timeout=timeout)

    def ctl(self, *args: str) -> str:
        return self._run("ctl", *args)

    def create_token(self, username: str, scope: str = "write") -> str:
        return self.manage("create_token", username, "--scope", scope, "--create-user").strip()

    def log(self, program: str) -> str:
        path = self.dir / "logs" / f"{program}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def env(self) -> dict[str, str]:
        """The cluster's environment (CLUSTER_DIR/env), as its programs see it."""
        out = subprocess.run(
            ["bash", "-c", f'. "{self.dir}/env" && env -0'], capture_output=True, text=True, check=True
        ).stdout
        return dict(item.split("=", 1) for item in out.split("\0") if "=" in item)


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    url = os.environ.get("HUB_CLUSTER_URL")
    if not url:
        pytest.skip(SKIP_REASON)
    ports = (os.environ.get("CLUSTER_WEB1_PORT", "8101"), os.environ.get("CLUSTER_WEB2_PORT", "8102"))
    cas_ports = (os.environ.get("CLUSTER_CAS1_PORT", "8111"), os.environ.get("CLUSTER_CAS2_PORT", "8112"))
    directory = Path(os.environ.get("CLUSTER_DIR", ROOT / "data" / "cluster"))
    loopback = "http://127.0.0.1:{}".format
    return Cluster(url.rstrip("/"), [loopback(p) for p in ports], [loopback(p) for p in cas_ports], directory)
