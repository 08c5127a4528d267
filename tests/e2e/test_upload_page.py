"""The upload page in a real browser: identical files get a word back, a card's YAML error is said once."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.live]

PASSWORD = "a-long-enough-passphrase-42"


@pytest.fixture(scope="module")
def page(live_hub, browser):
    page = browser.new_page()
    page.goto(live_hub.url + "/accounts/signup/")
    page.fill("input[name=username]", "uvera")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(live_hub.url + "/")
    page.goto(live_hub.url + "/new")
    page.fill("#id_name", "uploads")
    page.click("main button[type=submit]")
    page.wait_for_url("**/uvera/uploads**")
    yield page
    page.close()


def test_identical_files_again_say_nothing_changed(live_hub, page, tmp_path):
    expect = pytest.importorskip("playwright.sync_api").expect
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    page.goto(live_hub.url + "/uvera/uploads")
    page.click("#upload-link")  # an empty model offers its first upload
    page.set_input_files("#file-input", str(tmp_path / "config.json"))
    page.click("#upload-submit")
    page.wait_for_url("**/uvera/uploads/commit/**")
    page.goto(live_hub.url + "/uvera/uploads/upload")
    page.set_input_files("#file-input", str(tmp_path / "config.json"))
    page.click("#upload-submit")
    expect(page.locator("#overall-label")).to_contain_text("Nothing changed")
    assert page.url.endswith("/uvera/uploads/upload")


def test_a_cards_yaml_error_is_said_once(live_hub, page, tmp_path):
    expect = pytest.importorskip("playwright.sync_api").expect
    (tmp_path / "README.md").write_text("---\nlicense: [mit\n---\n# Broken\n")
    page.goto(live_hub.url + "/uvera/uploads/upload")
    page.set_input_files("#file-input", str(tmp_path / "README.md"))
    page.click("#upload-submit")
    box = page.locator("#upload-error")
    expect(box).to_be_visible()
    text = box.inner_text()
    assert text.count("Invalid YAML in the front matter") == 1, text
