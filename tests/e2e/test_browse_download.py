"""A real browser (Debian chromium) searches, filters, opens a model and downloads a file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.live]


@pytest.fixture(scope="module")
def catalog(live_hub, tmp_path_factory):
    root = tmp_path_factory.mktemp("catalog")
    for name, task, payload in (
        ("sentiment-bert", "text-classification", b'{"model_type": "bert"}'),
        ("sentiment-gpt", "text-generation", b'{"model_type": "gpt2"}'),
        ("vision-net", "image-classification", b'{"model_type": "resnet"}'),
    ):
        folder = root / name
        folder.mkdir()
        (folder / "config.json").write_bytes(payload)
        (folder / "README.md").write_text(f"# {name}\n\nA model for {task}.\n")
        live_hub.manage("publish_folder", f"rcarol/{name}", str(folder), "--pipeline-tag", task, "--license", "mit")
    return root


def test_search_filter_open_and_download(live_hub, catalog, browser, tmp_path):
    page = browser.new_page(accept_downloads=True)
    page.goto(live_hub.url + "/")
    page.fill("header input[name=search]", "sentiment")
    page.press("header input[name=search]", "Enter")
    page.wait_for_url("**/models?search=sentiment")
    results = page.locator("#model-results")
    assert results.locator("text=rcarol/sentiment-bert").count() == 1
    assert results.locator("text=rcarol/vision-net").count() == 0

    page.select_option("select[name=pipeline_tag]", "text-generation")
    page.click("#model-filters button[type=submit]")
    page.wait_for_url("**pipeline_tag=text-generation**")
    assert results.locator("text=rcarol/sentiment-gpt").count() == 1
    assert results.locator("text=rcarol/sentiment-bert").count() == 0

    results.locator("text=rcarol/sentiment-gpt").click()
    page.wait_for_url("**/rcarol/sentiment-gpt")
    assert "A model for text-generation." in page.locator("#model-card").inner_text()

    page.click("nav.tabs >> text=Files")
    page.wait_for_url("**/rcarol/sentiment-gpt/tree/main")
    row = page.locator("tr[data-path='config.json']")
    with page.expect_download() as info:
        row.locator("text=Download").click()
    saved = Path(info.value.path())
    original = (catalog / "sentiment-gpt" / "config.json").read_bytes()
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == hashlib.sha256(original).hexdigest()
    assert info.value.suggested_filename == "config.json"
    page.close()


def test_like_toggle_and_private_download(live_hub, catalog, browser, tmp_path):
    page = browser.new_page()
    page.goto(live_hub.url + "/accounts/signup/")
    page.fill("input[name=username]", "rdave")
    page.fill("input[name=password1]", "a-long-enough-passphrase-42")
    page.fill("input[name=password2]", "a-long-enough-passphrase-42")
    page.click("main button[type=submit]")
    page.wait_for_url(live_hub.url + "/")
    page.goto(live_hub.url + "/rcarol/vision-net")
    page.click("#like-button")
    expect = pytest.importorskip("playwright.sync_api").expect
    expect(page.locator("#like-count")).to_have_text("1")
    expect(page.locator("#like-button")).to_have_attribute("aria-pressed", "true")
    page.reload()
    assert page.locator("#like-count").inner_text() == "1"
    page.click("#like-button")
    expect(page.locator("#like-count")).to_have_text("0")

    # dave's private model: the download link works with his session cookie, through the ASGI download front.
    folder = tmp_path / "private"
    folder.mkdir()
    (folder / "config.json").write_bytes(b'{"secret": true}')
    live_hub.manage("publish_folder", "rdave/hidden", str(folder), "--private")
    page.goto(live_hub.url + "/rdave/hidden/tree/main")
    with page.expect_download() as info:
        page.locator("tr[data-path='config.json'] >> text=Download").click()
    assert Path(info.value.path()).read_bytes() == b'{"secret": true}'
    anonymous = browser.new_page()
    assert anonymous.goto(live_hub.url + "/rdave/hidden").status == 404
    assert anonymous.goto(live_hub.url + "/rdave/hidden/resolve/main/config.json").status == 401
    anonymous.close()
    page.close()
