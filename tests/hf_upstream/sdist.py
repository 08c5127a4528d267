"""The installed huggingface_hub's own tests, taken from its sdist, pointed at a hub.

The sdist ships ``tests/`` without the ``conftest.py`` that wires them to
huggingface.co's CI hub; ``upstream_conftest.py`` beside this file is ours, and
``testing_constants.py`` is rewritten so that the staging endpoint, the users and
their tokens are the hub under test's. The sdist comes from the package registry
(``pip download --no-binary``), is cached under the data dir, and is never
installed or imported by the hub itself.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent


class SdistUnavailable(Exception):
    """The sdist could not be fetched; the message is one line."""


def installed_version() -> str:
    return metadata.version("huggingface_hub")


def fetch_tests(cache_dir: Path, version: str | None = None, *, timeout: int = 600) -> Path:
    """The ``tests/`` folder of huggingface_hub ``version``'s sdist, downloaded once into ``cache_dir``."""
    version = version or installed_version()
    root = Path(cache_dir) / f"huggingface_hub-{version}"
    tests = root / "tests"
    if (tests / "test_hf_api.py").exists():
        return tests
    cache_dir.mkdir(parents=True, exist_ok=True)
    spec = f"huggingface_hub=={version}"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-d", str(cache_dir), spec]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    archives = sorted(cache_dir.glob(f"huggingface_hub-{version}.tar.gz"))
    if done.returncode != 0 or not archives:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SdistUnavailable(f"pip download {spec} failed: {last}")
    with tarfile.open(archives[0]) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith(f"huggingface_hub-{version}/tests/")]
        archive.extractall(cache_dir, members=members, filter="data")
    return tests


def prepare(tests: Path, workdir: Path, *, endpoint: str, users: dict[str, tuple[str, str]]) -> Path:
    """Copy the upstream tests into ``workdir`` and wire them to ``endpoint``.

    ``users`` maps the roles the upstream constants name (``USER``, ``OTHER_USER``)
    to ``(username, token)`` on the hub under test.
    """
    target = Path(workdir) / "tests"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(tests, target)
    shutil.copy(HERE / "upstream_conftest.py", target / "conftest.py")
    (target / "__init__.py").touch()
    user, token = users["USER"]
    other, other_token = users["OTHER_USER"]
    overrides = "\n".join(
        [
            "",
            "# --- TransferHub: the hub under test stands in for huggingface.co's CI hub ---",
            f"ENDPOINT_STAGING = {endpoint!r}",
            f"USER = {user!r}",
            f"TOKEN = {token!r}",
            f"OTHER_USER = {other!r}",
            f"OTHER_TOKEN = {other_token!r}",
            "",
        ]
    )
    with open(target / "testing_constants.py", "a") as handle:
        handle.write(overrides)
    (Path(workdir) / "pytest.ini").write_text(PYTEST_INI)
    return target


# The upstream ini minus what needs its CI (pytest-env, rerunfailures); markers as upstream names them.
PYTEST_INI = """[pytest]
addopts = -p no:cacheprovider -p no:django
markers =
    api: upstream suite marker
    transfer: upstream suite marker
    inference: upstream suite marker
    xet: needs hf_xet
    no_xet: must run without hf_xet
    production: runs against huggingface.co
    deprecated: expects a FutureWarning
    git_lfs: needs git-lfs
    vcr: recorded HTTP cassettes
filterwarnings =
    error::FutureWarning
"""
