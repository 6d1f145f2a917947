"""The web app in a real browser against a real local stage: sign-up, real-time chat both ways,
history, rooms, a dropped connection recovered without a lost or doubled message, and looks."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect
from websockets.sync.client import connect

from reference_stack.local.config import REPO_ROOT
from tests.browser.helpers import (
    PASSWORD,
    Person,
    api_token,
    axe_violations,
    composer,
    connection_status,
    expect_connected,
    fill_auth_form,
    join_room,
    messages,
    send,
    sign_up,
    unique_person,
    unique_room,
)


def test_signup_and_login_show_the_api_errors_beside_their_fields(new_page, stage):
    """Field errors from the API land under their field; credential errors in an alert."""
    page = new_page()
    page.goto(stage.web_url)
    page.get_by_role("button", name="Create an account").click()

    fill_auth_form(page, Person("not-an-e-mail", "ada", PASSWORD), signup=True)
    email = page.get_by_label("E-mail")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text(re.compile("not a valid e-mail", re.I))).to_be_visible()
    expect(email).to_be_focused()

    ada = unique_person("ada")
    fill_auth_form(page, Person(ada.email, "ada", "short"), signup=True)
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(email).not_to_have_attribute("aria-invalid", "true")

    sign_up(page, stage.web_url, ada)
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Create an account").click()
    fill_auth_form(page, ada, signup=True)
    expect(page.get_by_text("That e-mail is already registered")).to_be_visible()

    page.get_by_role("button", name="Log in", exact=True).last.click()  # back to the login form
    fill_auth_form(page, Person(ada.email, "ada", "wrong password"), signup=False)
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    fill_auth_form(page, ada, signup=False)
    expect_connected(page)


def test_two_people_chat_in_real_time_both_ways(new_page, stage, screenshots):
    """Each sees the other's message appear live, with author, time and own/other styling;
    HTML in a message is shown as text."""
    alice_page, bob_page = new_page(), new_page()
    alice = sign_up(alice_page, stage.web_url, unique_person("alice"))
    bob = sign_up(bob_page, stage.web_url, unique_person("bob"))

    hello = "Hi Bob! <b>not bold</b> <img src=x onerror=alert(1)>"
    send(alice_page, hello)
    received = messages(bob_page, hello)
    expect(received).to_have_count(1)
    expect(received.get_by_test_id("author")).to_have_text(alice.username)
    expect(received.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    expect(received).to_have_class(re.compile(r"\bother\b"))
    expect(received.locator("b, img")).to_have_count(0)
    expect(messages(alice_page, hello)).to_have_class(re.compile(r"\bown\b"))
    expect(bob_page.get_by_test_id("announcer")).to_contain_text(f"{alice.username}: Hi Bob!")

    reply = "Hello Alice\nthis is a second line"
    send(bob_page, reply)
    shown = messages(alice_page, reply)
    expect(shown).to_have_count(1)
    expect(shown.get_by_test_id("author")).to_have_text(bob.username)
    expect(messages(bob_page, reply).get_by_test_id("author")).to_have_text("You")
    expect(composer(bob_page)).to_have_value("")

    send(alice_page, "Great to see this working 🎉")
    expect(messages(bob_page, "Great to see this working 🎉")).to_have_count(1)
    alice_page.screenshot(path=screenshots / "conversation-1280.png", animations="disabled")


def test_a_reload_shows_the_history_and_keeps_the_session(new_page, stage):
    """After a reload the person is still logged in and sees the room's history, each once."""
    page = new_page()
    sign_up(page, stage.web_url, unique_person("carol"))
    texts = [f"history line {n}" for n in range(3)]
    for text in texts:
        send(page, text)
        expect(messages(page, text)).to_have_count(1)

    page.reload()
    expect_connected(page)
    for text in texts:
        expect(messages(page, text)).to_have_count(1)

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    assert page.evaluate("localStorage.getItem('chatstack.session')") is None


def test_rooms_joined_by_name_keep_their_messages_apart(new_page, stage):
    """A message sent to a room reaches its members and is not shown in general."""
    room = unique_room("team")
    alice_page, bob_page = new_page(), new_page()
    sign_up(alice_page, stage.web_url, unique_person("alice"))
    sign_up(bob_page, stage.web_url, unique_person("bob"))
    join_room(alice_page, room)
    join_room(bob_page, room)

    send(alice_page, "only for the team")
    expect(messages(bob_page, "only for the team")).to_have_count(1)

    bob_page.get_by_role("button", name="general").click()
    expect(bob_page.get_by_role("heading", level=1)).to_have_text("#general")
    expect(messages(bob_page, "only for the team")).to_have_count(0)
    send(alice_page, "are you there?")
    expect(bob_page.get_by_role("button", name=f"{room}, 1 unread")).to_be_visible()

    bob_page.get_by_role("button", name=f"Leave {room}").click()
    expect(bob_page.get_by_role("button", name=room, exact=True)).to_have_count(0)


def test_scrolling_up_loads_older_history(new_page, stage):
    """Entering a room shows its latest page; scrolling to the top brings the older ones."""
    room = unique_room("archive")
    token = api_token(stage.rest_url, unique_person("dave"))
    with connect(f"{stage.ws_url}?token={token}") as ws:
        ws.send(json.dumps({"action": "joinRoom", "roomId": room}))
        json.loads(ws.recv(10))
        for n in range(1, 71):
            ws.send(
                json.dumps({"action": "sendMessage", "roomId": room, "message": f"archived {n}"})
            )
            while json.loads(ws.recv(10)).get("type") != "ack":
                pass

    page = new_page()
    sign_up(page, stage.web_url, unique_person("erin"))
    join_room(page, room)
    expect(messages(page, "archived 70")).to_have_count(1)
    expect(messages(page)).to_have_count(50)
    expect(messages(page, "archived 1")).to_have_count(0)

    page.get_by_test_id("message-list").evaluate("list => list.scrollTo(0, 0)")
    expect(messages(page)).to_have_count(70)
    expect(messages(page, "archived 1")).to_have_count(1)
    expect(page.get_by_text(f"This is the beginning of #{room}.")).to_be_visible()


def test_a_dropped_connection_recovers_without_losing_or_doubling_a_message(
    new_page, stage, drop_connections, screenshots
):
    """The server drops the browser's WebSocket: the app shows it, queues what is typed
    meanwhile, reconnects, and both people end with every message exactly once."""
    alice_page, bob_page = new_page(), new_page()
    sign_up(alice_page, stage.web_url, unique_person("alice"))
    sign_up(bob_page, stage.web_url, unique_person("bob"))
    send(alice_page, "before the drop")
    expect(messages(bob_page, "before the drop")).to_have_count(1)

    # Hold the browser offline so the disconnected state lasts, then drop its connection.
    alice_page.context.set_offline(True)
    assert drop_connections(alice_page), "the browser's connection is not in the Connections table"
    expect(connection_status(alice_page)).to_have_attribute("data-status", "disconnected")
    expect(alice_page.get_by_role("status").filter(has_text="Disconnected")).to_be_visible()

    send(alice_page, "typed while disconnected")
    pending = alice_page.get_by_test_id("pending-message")
    expect(pending).to_contain_text("Waiting for connection")
    alice_page.screenshot(path=screenshots / "disconnected-1280.png", animations="disabled")
    send(bob_page, "sent while alice was away")
    expect(messages(bob_page, "sent while alice was away")).to_have_count(1)

    alice_page.context.set_offline(False)
    expect_connected(alice_page)
    for page in (alice_page, bob_page):
        for text in ("before the drop", "sent while alice was away", "typed while disconnected"):
            expect(messages(page, text)).to_have_count(1)
    expect(pending).to_have_count(0)

    # A second drop, while online: the app reconnects by itself and still doubles nothing.
    assert drop_connections(alice_page)
    send(bob_page, "after the second drop")
    expect(messages(alice_page, "after the second drop")).to_have_count(1)
    expect_connected(alice_page)
    alice_page.reload()
    expect_connected(alice_page)
    for text in ("before the drop", "sent while alice was away", "typed while disconnected"):
        expect(messages(alice_page, text)).to_have_count(1)


def test_screenshots_at_desktop_and_phone_widths(new_page, stage, screenshots):
    """The login page and the chat at 1280 and 375 px wide, kept under reports/screenshots/."""
    other = new_page()
    sign_up(other, stage.web_url, unique_person("grace"))
    for width, height in ((1280, 800), (375, 740)):
        page = new_page(width, height)
        page.goto(stage.web_url)
        expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
        page.screenshot(path=screenshots / f"login-{width}.png", animations="disabled")
        sign_up(page, stage.web_url, unique_person("henry"))
        send(other, f"Hello from the other side at {width} px")
        mine = f"Looks good at {width} px!\nA second line, long enough to show how a message wraps."
        send(page, mine)
        expect(messages(page, f"Hello from the other side at {width} px")).to_have_count(1)
        expect(messages(page, mine)).to_have_count(1)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=screenshots / f"chat-{width}.png", animations="disabled")
        if width < 760:
            page.get_by_role("button", name="Rooms").click()
            expect(page.get_by_label("Join a room")).to_be_visible()
            page.screenshot(path=screenshots / f"rooms-{width}.png", animations="disabled")
            page.keyboard.press("Escape")
            expect(page.get_by_label("Join a room")).to_be_hidden()
            expect(page.get_by_role("button", name="Rooms")).to_be_focused()


def test_pages_pass_axe_accessibility_checks(new_page, stage):
    """axe-core finds no WCAG 2.1 A/AA or best-practice violation on the login and sign-up
    forms (with errors shown), the chat, and the rooms drawer on a phone."""
    axe = REPO_ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
    assert axe.is_file(), f"{axe} is missing: install the front end first (`make frontend`)"
    found: dict[str, list] = {}
    for width, height in ((1280, 800), (360, 740)):
        page = new_page(width, height)
        page.goto(stage.web_url)
        expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
        found[f"login-{width}"] = axe_violations(page, str(axe))
        page.get_by_role("button", name="Create an account").click()
        fill_auth_form(page, Person("bad", "", "x"), signup=True)
        expect(page.get_by_label("E-mail")).to_have_attribute("aria-invalid", "true")
        found[f"signup-errors-{width}"] = axe_violations(page, str(axe))
        sign_up(page, stage.web_url, unique_person("iris"))
        send(page, f"An accessible hello at {width} px")
        expect(messages(page, f"An accessible hello at {width} px")).to_have_count(1)
        found[f"chat-{width}"] = axe_violations(page, str(axe))
        if width < 760:
            page.get_by_role("button", name="Rooms").click()
            expect(page.get_by_label("Join a room")).to_be_visible()
            found[f"rooms-drawer-{width}"] = axe_violations(page, str(axe))
    assert {view: v for view, v in found.items() if v} == {}
