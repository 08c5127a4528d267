"""In a real browser: a visitor reports a message; staff take the model down from the admin; it answers as
taken down on its page, the API and downloads; restoring brings everything back. Each admin action is audited."""

from __future__ import annotations

import json
import os

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.live,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian chromium at /usr/bin/chromium"),
]
PASSWORD = "correct-horse-battery"
REPO = "kim-td/flagged-bert"


@pytest.fixture(scope="module")
def hub(live_hub):
    """kim owns a model with one file and one rude message in its room; lee visits; sol is staff."""
    live_hub.manage(
        "shell",
        "-c",
        "from hub.models import User\n"
        "from models_app.models import ModelRepo\n"
        "from models_app.publish.uploads import Ingest\n"
        "from models_app.repos.revisions import revision_create\n"
        "from discussions.rooms import message_post, room_for\n"
        "for name in ('kim-td', 'lee-td', 'sol-td'):\n"
        f"    User.objects.filter(username=name).exists() or User.objects.create_user(name, password={PASSWORD!r})\n"
        "User.objects.filter(username='sol-td').update(is_staff=True, is_superuser=True)\n"
        "kim = User.objects.get(username='kim-td')\n"
        "repo, created = ModelRepo.objects.get_or_create(owner=kim, name='flagged-bert')\n"
        "if created:\n"
        "    ingest = Ingest(repo); ingest.add('config.json', [b'{}'])\n"
        "    revision_create(repo, author=kim, message='x', add=ingest.files)\n"
        "    message_post(room_for(repo), kim, 'rude words here')\n",
    )
    return live_hub


def login(page, base: str, username: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)


def audit_actions(hub) -> list[str]:
    script = (
        "import json\nfrom hub.models import AuditEntry\n"
        f"print(json.dumps(list(AuditEntry.objects.filter(target='model {REPO}').values_list('action', flat=True))))"
    )
    return json.loads(hub.manage("shell", "-c", script).strip().splitlines()[-1])


def take_action(page, base: str, action: str, reason: str) -> None:
    """In the admin's repo list: tick the repo, pick the action, confirm with a reason."""
    page.goto(base + "/admin/models_app/modelrepo/?q=flagged-bert")
    page.locator("input.action-select").first.check()
    page.select_option("select[name=action]", action)
    page.click("button[name=index], input[name=index], .actions button[type=submit]")
    page.fill("#id_reason", reason)
    page.click("#reason-form input[name=apply]")
    page.wait_for_url(lambda url: url.split("?")[0].endswith("/admin/models_app/modelrepo/"))


def test_report_takedown_and_restore_in_a_browser(hub):
    from playwright.sync_api import expect, sync_playwright

    base = hub.url
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        try:
            visitor, staff = browser.new_context().new_page(), browser.new_context().new_page()
            # The visitor reports the message from the room.
            login(visitor, base, "lee-td")
            visitor.goto(f"{base}/{REPO}/discussion")
            expect(visitor.locator("#messages")).to_contain_text("rude words here")
            visitor.locator("#messages a.msg-report").first.click()
            expect(visitor.locator("#id_kind")).to_have_value("message")
            visitor.fill("#id_reason", "insults other users")
            visitor.click("#report-form button[type=submit]")
            expect(visitor.locator("body")).to_contain_text("your report was received")

            # Staff see it in the queue, then take the model down.
            login(staff, base, "sol-td")
            staff.goto(base + "/admin/discussions/report/")
            expect(staff.locator("#result_list")).to_contain_text("insults other users")
            expect(staff.locator("#result_list")).to_contain_text(f"message {REPO}#")
            take_action(staff, base, "hide", "Abusive content (reported)")

            visitor.goto(f"{base}/{REPO}")
            expect(visitor.locator("#takedown")).to_contain_text("has been taken down")
            expect(visitor.locator("#takedown-reason")).to_have_text("Abusive content (reported)")
            assert httpx.get(f"{base}/{REPO}").status_code == 451
            api = httpx.get(f"{base}/api/models/{REPO}")
            assert api.status_code == 451 and "Abusive content" in api.json()["error"]
            assert httpx.get(f"{base}/{REPO}/resolve/main/config.json").status_code == 451
            assert REPO not in [m["id"] for m in httpx.get(f"{base}/api/models?search=flagged").json()]

            take_action(staff, base, "restore", "reviewed: fine after the message was removed")
            visitor.goto(f"{base}/{REPO}")
            expect(visitor.locator("h1.repo-title")).to_contain_text("flagged-bert")
            assert httpx.get(f"{base}/api/models/{REPO}").status_code == 200
            assert httpx.get(f"{base}/{REPO}/resolve/main/config.json").content == b"{}"

            staff.goto(base + "/admin/hub/auditentry/?q=flagged-bert")
            expect(staff.locator("#result_list")).to_contain_text("repo.hide")
            expect(staff.locator("#result_list")).to_contain_text("repo.restore")
        finally:
            browser.close()
    assert audit_actions(hub)[:2] == ["repo.restore", "repo.hide"]
