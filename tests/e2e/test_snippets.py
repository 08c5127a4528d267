"""The model page's "Use this model" snippets, run exactly as shown, in a fresh shell, load the model.

The page is fetched from a live hub and each snippet is taken from its ``<pre>`` as a user would
copy it. The shell is fresh: no HF_* variables, an empty HOME and Hugging Face cache, and PATH
starting with the hub's virtualenv, as in a shell where the user activated the environment
they work in. The snippet's own ``python -m pip install`` is then a no-op (everything is
installed) and needs no network; HF_ENDPOINT comes from the snippet itself.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.live]

SNIPPET = re.compile(r'<pre id="snippet-(?P<key>[\w-]+)"[^>]*><code>(?P<code>.*?)</code></pre>', re.S)


@pytest.fixture(scope="module")
def demo_page(live_hub) -> dict[str, str]:
    live_hub.manage("publish_demo", timeout=600)  # demo/tiny-bert: a real (tiny) BERT and tokenizer
    with urllib.request.urlopen(f"{live_hub.url}/demo/tiny-bert") as answer:
        page = answer.read().decode()
    return {m["key"]: html.unescape(m["code"]) for m in SNIPPET.finditer(page)}


def _run_in_fresh_shell(code: str, home: Path) -> subprocess.CompletedProcess:
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",  # no call to PyPI about pip's own version
    }
    return subprocess.run(["bash", "-c", code], env=env, cwd=home, capture_output=True, text=True, timeout=300)


def test_the_page_shows_three_snippets_that_name_this_hub(demo_page, live_hub):
    assert set(demo_page) == {"transformers", "huggingface_hub", "hf"}
    for code in demo_page.values():
        assert f"export HF_ENDPOINT={live_hub.url}\n" in code
        assert code.startswith("python -m pip install")  # the python that runs it has what it imports


def test_transformers_snippet_loads_the_model(demo_page, tmp_path):
    done = _run_in_fresh_shell(demo_page["transformers"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"^Bert\w*Model \d+ parameters$", done.stdout, re.M), done.stdout


def test_huggingface_hub_snippet_downloads_the_files(demo_page, tmp_path):
    done = _run_in_fresh_shell(demo_page["huggingface_hub"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    folder = Path(done.stdout.strip().splitlines()[-1].removeprefix("model files in "))
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()


def test_hf_cli_snippet_downloads_the_files(demo_page, tmp_path):
    done = _run_in_fresh_shell(demo_page["hf"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    # hf prints the snapshot folder (newer releases as "path: <folder>" in a summary)
    folder = Path(re.findall(r"(/\S+/snapshots/[0-9a-f]{40})", done.stdout)[-1])
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
