"""Two real browser pages in one room: they chat, see each other online and typing, and a reload shows history."""

from __future__ import annotations

import os

import pytest

from tests.discussions.live_client import make_repo

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.live,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian chromium at /usr/bin/chromium"),
]
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def room_url(live_hub):
    live_hub.manage(
        "shell",
        "-c",
        "from hub.models import User\n"
        f"for name in ('ivy', 'jon'): User.objects.filter(username=name).exists() or "
        f"User.objects.create_user(name, password={PASSWORD!r})",
    )
    make_repo(live_hub, "ivy", "browser-bert")
    return live_hub.url + "/ivy/browser-bert/discussion"


def login(page, base: str, username: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)


def test_two_pages_chat_with_presence_typing_and_history(live_hub, room_url):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        try:
            ivy, jon = browser.new_context().new_page(), browser.new_context().new_page()
            # connect-src is 'self' alone: the room's ws:// socket must still pass it (CSP Level 3).
            violations = []
            for page in (ivy, jon):
                page.on("console", lambda msg: "Content Security Policy" in msg.text and violations.append(msg.text))
            login(ivy, live_hub.url, "ivy")
            login(jon, live_hub.url, "jon")
            ivy.goto(room_url)
            jon.goto(room_url)
            expect(ivy.locator("#room-status")).to_contain_text("Connected")
            expect(jon.locator("#room-status")).to_contain_text("Connected")
            expect(ivy.locator("#online")).to_contain_text("jon")
            expect(jon.locator("#online")).to_contain_text("ivy")

            ivy.fill("#composer-body", "")
            ivy.locator("#composer-body").press_sequentially("hello **jon**")
            expect(jon.locator("#typing")).to_contain_text("ivy is typing")
            ivy.locator("#composer-body").press("Enter")
            expect(jon.locator("#messages")).to_contain_text("hello jon")
            assert jon.locator("#messages .msg-body strong").first.inner_text() == "jon"

            jon.locator("#composer-body").fill("hi @ivy <script>window.pwned=1</script>")
            jon.locator("#composer-body").press("Enter")
            expect(ivy.locator("#messages")).to_contain_text("<script>window.pwned=1</script>")
            assert ivy.evaluate("window.pwned") is None
            expect(ivy.locator("#messages a.mention")).to_have_text("@ivy")

            jon.reload()
            expect(jon.locator("#messages")).to_contain_text("hello jon")
            expect(jon.locator("#messages")).to_contain_text("hi @ivy")
            expect(jon.locator("#messages li")).to_have_count(2)
            assert violations == []
        finally:
            browser.close()
