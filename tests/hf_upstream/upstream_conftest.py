"""conftest.py for huggingface_hub's own tests, run against a TransferHub (copied in by sdist.prepare).

Written for TransferHub: the sdist lacks the upstream conftest. It gives the
fixtures the upstream tests ask for (``api``, ``repo_factory``), a fresh client
cache per test, and the upstream markers' meaning. Tests that need
huggingface.co itself (``production``) are skipped with that reason.
"""

import os
import warnings
from contextlib import ExitStack

import pytest
from huggingface_hub import HfApi, constants
from huggingface_hub.utils import SoftTemporaryDirectory
from huggingface_hub.utils._runtime import is_package_available

from .testing_constants import ENDPOINT_STAGING, TOKEN
from .testing_utils import repo_name


@pytest.fixture(autouse=True)
def fresh_client_cache(monkeypatch):
    # Every test starts with an empty cache, token file and assets dir, as upstream does.
    with SoftTemporaryDirectory() as cache_dir:
        for name, sub in [
            ("HF_HOME", ""),
            ("HF_HUB_CACHE", "hub"),
            ("HUGGINGFACE_HUB_CACHE", "hub"),
            ("HF_XET_CACHE", "xet"),
            ("HF_ASSETS_CACHE", "assets"),
            ("HF_TOKEN_PATH", "token"),
            ("HF_STORED_TOKENS_PATH", "stored_tokens"),
        ]:
            if hasattr(constants, name):
                monkeypatch.setattr(constants, name, os.path.join(cache_dir, sub) if sub else cache_dir)
        yield


@pytest.fixture(autouse=True)
def upstream_markers(request, monkeypatch):
    node = request.node
    if node.get_closest_marker("production") is not None:
        pytest.skip("needs huggingface.co itself")
    if node.get_closest_marker("git_lfs") is not None and os.environ.get("RUN_GIT_LFS_TESTS") != "1":
        pytest.skip("needs git-lfs")
    xet, no_xet = node.get_closest_marker("xet"), node.get_closest_marker("no_xet")
    if xet is not None:
        if not is_package_available("hf_xet"):
            pytest.skip("needs hf_xet")
        monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", False)
        monkeypatch.delenv("HF_HUB_DISABLE_XET", raising=False)
    elif no_xet is not None and is_package_available("hf_xet"):
        pytest.skip("must run without hf_xet installed")
    if hasattr(constants, "HF_HUB_DISABLE_EXPERIMENTAL_WARNING"):
        monkeypatch.setattr(constants, "HF_HUB_DISABLE_EXPERIMENTAL_WARNING", True)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture(autouse=True)
def expected_deprecations(request):
    names = [name for marker in request.node.iter_markers("deprecated") for name in marker.args]
    if not names:
        yield
        return
    with ExitStack() as stack:
        for name in names:
            stack.enter_context(pytest.warns(FutureWarning, match=rf".*'{name}'.*"))
        yield


@pytest.fixture(scope="session")
def api() -> HfApi:
    return HfApi(endpoint=ENDPOINT_STAGING, token=TOKEN)


@pytest.fixture(scope="session")
def api_prod() -> HfApi:
    pytest.skip("needs huggingface.co itself")


@pytest.fixture
def repo_factory(api):
    created = []

    def make(repo_type="model", **kwargs):
        if repo_type == "space":
            pytest.skip("Spaces are not part of TransferHub")
        kwargs.setdefault("repo_id", repo_name(prefix=repo_type))
        url = api.create_repo(repo_type=repo_type, **kwargs)
        created.append((url.repo_id, repo_type, kwargs.get("token")))
        return url

    yield make
    for repo_id, repo_type, token in created:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                api.delete_repo(repo_id=repo_id, repo_type=repo_type, token=token)
            except Exception:  # noqa: BLE001 - cleanup of a repo the test may have deleted itself
                pass


class RepoFactory:  # noqa: D101 - imported by upstream tests as a type only
    pass
