"""The web app in a real browser against a real local stage: sign-up, real-time chat both ways,
history, rooms, a dropped connection recovered without a lost or doubled message, and looks."""

from __future__ import annotations

import json
import re

from playwright.sync_api import expect
from websockets.sync.client import connect

from tests.browser.helpers import (
    api_token,
    composer,
    connection_status,
    expect_connected,
    join_room,
    message_list,
    messages,
    pending_messages,
    room_heading,
    send,
    sign_up,
    unique_person,
    unique_room,
)


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
    expect(received.get_by_text(alice.username, exact=True)).to_be_visible()
    expect(received.get_by_role("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    expect(received).to_have_class(re.compile(r"\bother\b"))
    expect(received.get_by_role("img")).to_have_count(0)
    expect(received.get_by_text("not bold", exact=True)).to_have_count(0)  # no <b> element
    expect(messages(alice_page, hello)).to_have_class(re.compile(r"\bown\b"))
    announcer = bob_page.get_by_role("log", name="New messages")
    expect(announcer).to_contain_text(f"{alice.username}: Hi Bob!")

    reply = "Hello Alice\nthis is a second line"
    send(bob_page, reply)
    shown = messages(alice_page, reply)
    expect(shown).to_have_count(1)
    expect(shown.get_by_text(bob.username, exact=True)).to_be_visible()
    expect(messages(bob_page, reply).get_by_text("You", exact=True)).to_be_visible()
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
    expect(room_heading(bob_page)).to_have_text("#general")
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

    message_list(page).evaluate("list => list.scrollTo(0, 0)")
    expect(messages(page)).to_have_count(70)
    expect(messages(page, "archived 1")).to_have_count(1)
    expect(page.get_by_text(f"This is the beginning of #{room}.")).to_be_visible()


def test_going_offline_and_a_dropped_connection_lose_and_double_no_message(
    new_page, stage, drop_connections, screenshots
):
    """The browser goes offline: the app says so at once (never still "Connected"), queues what
    is typed meanwhile and sends it when back online; then the server drops the connection and
    the app reconnects by itself. Both people end with every message exactly once."""
    alice_page, bob_page = new_page(), new_page()
    sign_up(alice_page, stage.web_url, unique_person("alice"))
    sign_up(bob_page, stage.web_url, unique_person("bob"))
    send(alice_page, "before going offline")
    expect(messages(bob_page, "before going offline")).to_have_count(1)

    alice_page.context.set_offline(True)  # the browser's own offline event
    expect(connection_status(alice_page)).to_have_text("Offline")
    expect(alice_page.get_by_text("You're offline.", exact=False)).to_be_visible()

    send(alice_page, "typed while offline")
    pending = pending_messages(alice_page, "Waiting for connection")
    expect(pending).to_have_count(1)
    alice_page.screenshot(path=screenshots / "offline-1280.png", animations="disabled")
    send(bob_page, "sent while alice was away")
    expect(messages(bob_page, "sent while alice was away")).to_have_count(1)

    alice_page.context.set_offline(False)
    expect_connected(alice_page)
    for page in (alice_page, bob_page):
        for text in ("before going offline", "sent while alice was away", "typed while offline"):
            expect(messages(page, text)).to_have_count(1)
    expect(pending).to_have_count(0)

    # The server drops the connection, as API Gateway may: the app reconnects by itself.
    assert drop_connections(alice_page), "the browser's connection is not in the Connections table"
    send(bob_page, "after the drop")
    expect(messages(alice_page, "after the drop")).to_have_count(1)
    expect_connected(alice_page)
    alice_page.reload()
    expect_connected(alice_page)
    for text in ("before going offline", "sent while alice was away", "typed while offline"):
        expect(messages(alice_page, text)).to_have_count(1)


def test_a_server_that_keeps_refusing_suggests_logging_in_again_in_plain_words(
    new_page, stage, drop_connections
):
    """After several failed attempts in a row the page says so in words for anyone (no talk of
    stages or keys) and offers to log in again, which leads to the login form, e-mail focused."""
    page = new_page()
    refusing = False

    def route(socket) -> None:  # every WebSocket of the page passes here
        if refusing:
            socket.close()
        else:
            socket.connect_to_server()

    page.route_web_socket(re.compile(r"^wss?://"), route)
    sign_up(page, stage.web_url, unique_person("sam"))
    refusing = True
    assert drop_connections(page)

    notice = page.get_by_text("Still can't reach the chat server.", exact=False)
    expect(notice).to_have_text(
        "Still can't reach the chat server. It may be down for a moment, or you may need to log "
        "in again."
    )
    page.get_by_role("button", name="Log in again").click()
    expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
    expect(page.get_by_label("Email", exact=True)).to_be_focused()
