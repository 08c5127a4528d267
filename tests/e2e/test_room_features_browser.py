"""The room as people use it, in real browsers over real websockets: words are never lost, edits and
reactions travel live, unread markers clear when the room is opened, search, preview, and a 390 px phone."""

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
# Names of their own: the live hub is shared by the whole session. The chat's rate limit is per
# user, so the test that runs into it has its user to itself.
USERS = ("rita", "sol", "tam", "uma", "vic", "wes")


@pytest.fixture(scope="module")
def hub(live_hub):
    live_hub.manage(
        "shell",
        "-c",
        "from hub.models import User\n"
        f"for name in {USERS!r}: User.objects.filter(username=name).exists() or "
        f"User.objects.create_user(name, password={PASSWORD!r})",
    )
    return live_hub


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()


def open_as(browser, hub, username: str, width: int = 1280, height: int = 800):
    """A page of its own (own cookies) logged in as ``username``; dialogs and console errors fail the test."""
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.problems = []
    page.on("dialog", lambda d: (page.problems.append(f"native dialog: {d.message}"), d.dismiss()))
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.goto(hub.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login" not in url)
    return page


def enter_room(page, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(url)
    expect(page.locator("#room-status")).to_contain_text("Connected")


def send(page, text: str) -> None:
    page.locator("#composer-body").fill(text)
    page.locator("#composer-body").press("Enter")


def message(page, text: str):
    return page.locator("#messages li.msg", has_text=text)


def test_a_refused_message_stays_in_the_box_with_the_servers_reason(browser, hub):
    from playwright.sync_api import expect

    make_repo(hub, "rita", "words-bert")
    url = hub.url + "/rita/words-bert/discussion"
    rita = open_as(browser, hub, "rita")
    enter_room(rita, url)
    box, reason = rita.locator("#composer-body"), rita.locator("#composer-error")

    long_text = "A long thought. " * 251  # 4,016 characters
    send(rita, long_text)
    expect(reason).to_have_text("A message may have at most 4000 characters; this one has 4016.")
    expect(box).to_have_value(long_text)
    expect(rita.locator("#messages li.msg")).to_have_count(0)

    send(rita, "A short thought.")
    expect(message(rita, "A short thought.")).to_have_count(1)
    expect(box).to_have_value("")
    expect(reason).to_be_hidden()

    # The hub allows 10 messages per 10 s: the 11th is refused, and stays.
    for n in range(2, 11):
        send(rita, f"burst {n}")
        expect(box).to_have_value("")
    send(rita, "one too many")
    expect(reason).to_contain_text("Slow down")
    expect(box).to_have_value("one too many")
    expect(message(rita, "one too many")).to_have_count(0)
    assert rita.problems == []
    rita.context.close()


def test_inline_edit_reactions_and_delete_reach_a_second_browser_live(browser, hub):
    from playwright.sync_api import expect

    make_repo(hub, "uma", "live-bert")
    url = hub.url + "/uma/live-bert/discussion"
    uma, vic = open_as(browser, hub, "uma"), open_as(browser, hub, "vic")
    enter_room(uma, url)
    enter_room(vic, url)
    send(uma, "first draft")
    expect(message(vic, "first draft")).to_have_count(1)

    # Inline edit: a box in the message itself, no prompt().
    message(uma, "first draft").get_by_role("button", name="edit").click()
    editor = uma.locator(".msg-editor textarea")
    expect(editor).to_have_value("first draft")
    editor.fill("second draft :rocket:")
    editor.press("Enter")
    edited = message(vic, "second draft 🚀")
    expect(edited).to_have_count(1)
    expect(edited.locator(".msg-edited")).to_have_text("(edited)")
    expect(uma.locator(".msg-editor")).to_have_count(0)

    # Reactions: vic picks one, uma sees it live and adds hers; each sees the count and their own state.
    message(vic, "second draft").get_by_role("button", name="react").click()
    vic.get_by_role("button", name="React with 🎉").click()
    on_uma = message(uma, "second draft").locator("button.reaction")
    expect(on_uma).to_have_text("🎉1")
    expect(on_uma).to_have_attribute("aria-pressed", "false")
    on_uma.click()
    on_vic = message(vic, "second draft").locator("button.reaction")
    expect(on_vic).to_have_text("🎉2")
    expect(on_vic).to_have_attribute("aria-pressed", "true")
    on_vic.click()  # vic takes his back
    expect(on_uma).to_have_text("🎉1")
    expect(on_uma).to_have_attribute("aria-pressed", "true")

    # Delete asks first; "Keep it" keeps it.
    message(uma, "second draft").get_by_role("button", name="delete").click()
    confirm = uma.get_by_role("alertdialog")
    expect(confirm).to_contain_text("Delete this message for everyone?")
    confirm.get_by_role("button", name="Keep it").click()
    expect(confirm).to_have_count(0)
    expect(message(vic, "second draft")).to_have_count(1)
    message(uma, "second draft").get_by_role("button", name="delete").click()
    uma.get_by_role("alertdialog").get_by_role("button", name="Delete").click()
    expect(vic.locator("#messages li.msg-deleted")).to_contain_text("This message was deleted.")
    assert uma.problems == [] and vic.problems == []
    uma.context.close()
    vic.context.close()


def test_unread_markers_clear_when_the_room_is_opened(browser, hub):
    from playwright.sync_api import expect

    make_repo(hub, "sol", "news-bert")
    url = hub.url + "/sol/news-bert/discussion"
    sol, tam = open_as(browser, hub, "sol"), open_as(browser, hub, "tam")
    enter_room(tam, url)  # tam follows the room from his first visit
    send(tam, "tam was here")
    expect(message(tam, "tam was here")).to_have_count(1)
    tam.goto(hub.url + "/")
    expect(tam.locator("#mention-badge")).to_be_hidden()

    enter_room(sol, url)
    send(sol, "news for @tam")
    expect(message(sol, "news for @tam")).to_have_count(1)
    send(sol, "and more news")
    expect(message(sol, "and more news")).to_have_count(1)

    tam.reload()
    badge = tam.locator("#mention-badge")
    expect(badge).to_have_text("1")  # one unread mention
    tam.locator("#user-menu").click()
    entry = tam.locator("#unread-rooms a", has_text="sol/news-bert")
    expect(entry).to_contain_text("2 new · 1 @")
    entry.click()
    expect(tam.locator("#room-status")).to_contain_text("Connected")
    # The room shows where the news begins, and opening it read it.
    divider = tam.locator("#messages .unread-divider")
    expect(divider).to_have_text("New messages")
    assert tam.locator("#messages li.msg, #messages li.unread-divider").evaluate_all(
        "els => els.map(e => e.classList.contains('unread-divider') ? '--' : e.querySelector('.msg-body').innerText)"
    ) == ["tam was here", "--", "news for @tam", "and more news"]
    expect(badge).to_be_hidden()
    tam.goto(hub.url + "/")
    expect(tam.locator("#mention-badge")).to_be_hidden()
    tam.locator("#user-menu").click()
    expect(tam.locator("#unread-rooms")).to_have_count(0)

    # A message arriving while the room is open is read at once: no marker left behind.
    enter_room(tam, url)
    expect(tam.locator("#messages .unread-divider")).to_have_count(0)
    send(sol, "live news")
    expect(message(tam, "live news")).to_have_count(1)
    tam.goto(hub.url + "/")
    tam.locator("#user-menu").click()
    expect(tam.locator("#unread-rooms")).to_have_count(0)
    expect(tam.locator("#mention-badge")).to_be_hidden()
    assert sol.problems == [] and tam.problems == []
    sol.context.close()
    tam.context.close()


def test_search_and_preview_on_a_phone_without_overflow(browser, hub):
    from playwright.sync_api import expect

    make_repo(hub, "wes", "phone-bert")
    # An old message, then more than the page loads at first (50): the search hit is not on the page yet.
    hub.manage(
        "shell",
        "-c",
        "from models_app.models import ModelRepo\n"
        "from discussions.rooms import system_post\n"
        "repo = ModelRepo.objects.get(owner__username='wes', name='phone-bert')\n"
        "system_post(repo, 'the loss went down after warmup')\n"
        "for n in range(60): system_post(repo, f'filler {n}')",
    )
    url = hub.url + "/wes/phone-bert/discussion"
    wes = open_as(browser, hub, "wes", width=390, height=844)
    enter_room(wes, url)
    send(wes, "nothing to see")
    send(wes, "Loss is flat; " + "a-very-long-unbroken-word-" * 12)
    expect(message(wes, "Loss is flat")).to_have_count(1)
    expect(message(wes, "the loss went down")).to_have_count(0)

    wes.fill("#room-search-q", "loss")
    wes.locator("#room-search-q").press("Enter")
    expect(wes.locator("#search-summary")).to_have_text("2 messages match “loss”")
    hits = wes.locator("#search-list li .msg-body")
    expect(hits.first).to_contain_text("Loss is flat")  # newest first
    expect(hits.nth(1)).to_have_text("the loss went down after warmup")
    wes.locator("#search-list li", has_text="the loss went down").get_by_role("button", name="Show in the room").click()
    expect(message(wes, "the loss went down")).to_be_in_viewport()

    wes.locator("#composer-body").fill("**bold** and :tada: and `:tada:`")
    wes.get_by_role("button", name="Preview").click()
    preview = wes.locator("#composer-preview")
    expect(preview.locator("strong")).to_have_text("bold")
    expect(preview).to_contain_text("and 🎉 and :tada:")
    wes.get_by_role("button", name="Write").click()
    expect(wes.locator("#composer-body")).to_have_value("**bold** and :tada: and `:tada:`")

    # Nothing of the room is wider than the phone.
    widest = wes.evaluate(
        "() => Math.max(...[...document.querySelectorAll('#room, #room *')].map(e => e.getBoundingClientRect().right))"
    )
    assert widest <= 390, widest
    assert wes.problems == []
    wes.context.close()


def test_the_validation_banner_shows_progress_and_goes_when_the_run_ends(browser, hub):
    """The hub's frames are passed through as they are; three validation events are added on the server's side."""
    import json

    from playwright.sync_api import expect

    make_repo(hub, "wes", "banner-bert")
    page = open_as(browser, hub, "wes")
    sockets = []

    def through(ws):
        ws.connect_to_server()  # every frame passes both ways unchanged
        sockets.append(ws)

    page.route_web_socket("**/ws/models/**", through)
    enter_room(page, hub.url + "/wes/banner-bert/discussion")

    def event(name: str, **data) -> None:
        sockets[-1].send(json.dumps({"type": "event", "event": name, "data": {"run": 7, "revision": "ab" * 20} | data}))

    banner = page.locator("#live-events")
    expect(banner).to_be_hidden()
    event("validation.progress", status="queued", stage="", progress={}, queue_position=2)
    expect(banner).to_have_text("Validation queued · position 2 in the queue")
    progress = {"stage": "fine-tune", "step": 30, "total": 75, "task": "sst2", "loss": 0.41}
    event("validation.progress", status="running", stage="fine-tune", progress=progress)
    expect(banner).to_have_text("Validating abababab · fine-tune · task sst2 · 40%")
    event("validation.finished", status="passed", verdict="passed", progress=progress)
    expect(banner).to_be_hidden()
    assert "NaN" not in banner.inner_text()
    assert page.problems == []
    page.context.close()
