"""A real browser (Debian's chromium) uploads a folder on the upload page and lands on the new revision."""

from __future__ import annotations

import json
import os
import urllib.request

import pytest

from tests.live import LiveHub

CHROMIUM = "/usr/bin/chromium"
pytestmark = [pytest.mark.e2e, pytest.mark.live, pytest.mark.slow]


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian chromium at /usr/bin/chromium (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    with LiveHub(tmp_path_factory.mktemp("browser-hub")) as live:
        token = live.create_token("alice", "write")
        live.manage(
            "shell",
            "-c",
            "from hub.models import User; u = User.objects.get(username='alice'); "
            "u.set_password('correct-horse-battery'); u.save()",
        )
        request = urllib.request.Request(
            live.url + "/api/models",
            data=json.dumps({"name": "folder-model"}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        urllib.request.urlopen(request).read()  # noqa: S310 - loopback
        yield live


def test_folder_upload_shows_progress_and_lands_on_the_revision(hub, tmp_path):
    from playwright.sync_api import sync_playwright

    folder = tmp_path / "my-model"
    (folder / "tokenizer").mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "model.safetensors").write_bytes(os.urandom(3 * 1024 * 1024))
    (folder / "tokenizer" / "vocab.txt").write_text("[PAD]\n[UNK]\n")
    seen: list[tuple[str, str]] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        try:
            page = browser.new_page()
            page.expose_function("reportProgress", lambda value, state: seen.append((value, state)))
            page.goto(hub.url + "/accounts/login/")
            page.fill("#id_username", "alice")
            page.fill("#id_password", "correct-horse-battery")
            page.click("button[type=submit]")
            page.wait_for_url(hub.url + "/")
            page.goto(hub.url + "/alice/folder-model/upload")
            page.set_input_files("#folder-input", str(folder))
            assert page.locator("#file-list tbody tr").count() == 3
            assert page.locator("#file-list").inner_text().count("tokenizer/vocab.txt") == 1
            page.fill("#message", "Upload a folder")
            page.evaluate(
                """() => {
                  const bar = document.getElementById('overall-progress');
                  const box = document.getElementById('overall');
                  new MutationObserver(() => window.reportProgress(bar.getAttribute('value'), box.dataset.state || ''))
                    .observe(box, {attributes: true, subtree: true});
                }"""
            )
            page.click("#upload-submit")
            page.wait_for_url("**/alice/folder-model/commit/*", timeout=60_000)
            assert ("100", "done") in seen, seen
            assert len(page.get_attribute("#revision", "data-sha")) == 40
            text = page.inner_text("main")
            assert "Upload a folder" in text and "3 changed files" in text and "tokenizer/vocab.txt" in text
        finally:
            browser.close()
