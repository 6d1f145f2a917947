"""Receipts, typing and presence in the web app (contract v3), two people in two browsers: the
ticks of one's own message go from delivered to read, "… is typing" shows while the other
types, and the other's closing their browser shows them offline with when they were last seen;
in a room, one's own message shows how many of the room's other members got and read it."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import TIMEOUT_MS
from tests.browser.helpers import join_room, room_heading, sign_up, unique_room
from tests.browser.test_chats import (
    chat_messages,
    conversation,
    say,
    start_direct_chat,
    unique_user,
)

# A room's counts are asked for again at most every 15 s while it is on screen (no receipt
# frames in rooms): a wait for them may take that long on top of the usual unit.
COUNTS_WAIT_MS = 15_000 + TIMEOUT_MS


def ticks(page: Page, text: str) -> Locator:
    """The ticks of one's own stored message ``text`` in the conversation on screen."""
    return chat_messages(page, text).locator(".ticks")


def test_two_browsers_see_delivered_then_read_then_typing_then_offline(
    new_page, stage, screenshots
):
    """Ann messages Bob while his browser shows another conversation: her message is delivered
    (✓✓), not read; Bob opens the chat: read. Bob types: Ann sees that he is typing, until he
    sends. Ann sees Bob online; Bob closes his browser: Ann sees him offline, last seen now."""
    ann_page, bob_page = new_page(), new_page()
    ann = sign_up(ann_page, stage.web_url, unique_user("ann"))
    bob = sign_up(bob_page, stage.web_url, unique_user("bob"))

    start_direct_chat(ann_page, bob)
    expect(conversation(bob_page, ann.username)).to_be_visible()  # chatAdded
    say(ann_page, "are you there?")
    # Bob's browser is on #general: the message reached it (delivered), nobody has shown it.
    expect(ticks(ann_page, "are you there?")).to_have_attribute("data-status", "delivered")
    expect(ticks(ann_page, "are you there?")).to_contain_text("Delivered")
    expect(room_heading(bob_page)).to_have_text("#general")

    # Bob opens the chat: the message is shown, so read.
    conversation(bob_page, ann.username).click()
    expect(chat_messages(bob_page, "are you there?")).to_have_count(1)
    expect(ticks(ann_page, "are you there?")).to_have_attribute("data-status", "read")
    expect(ticks(ann_page, "are you there?")).to_contain_text("Read")

    # Bob types: Ann sees it; his message ends it.
    box = bob_page.get_by_role("textbox", name=re.compile(r"^Message "))
    box.press_sequentially("yes, here", delay=20)
    indicator = ann_page.locator(".typing-indicator")
    expect(indicator).to_have_text(f"{bob.username} is typing…")
    ann_page.screenshot(path=screenshots / "receipts-typing.png")
    box.press("Enter")
    expect(chat_messages(ann_page, "yes, here")).to_have_count(1)
    expect(indicator).to_have_text("")

    # Presence: Bob is online in Ann's header and list; his browser closes: offline, last seen.
    people = ann_page.get_by_label("People in this chat")
    expect(people).to_have_text("online")
    expect(conversation(ann_page, bob.username).locator(".online-dot")).to_have_count(1)
    bob_page.context.close()
    expect(people).to_have_text("last seen just now")
    expect(conversation(ann_page, bob.username).locator(".online-dot")).to_have_count(0)


def test_a_room_message_shows_delivered_to_then_read_by_the_other_member(new_page, stage):
    """Bob and Ada in a fresh room: Bob's message reaches Ada's browser while it shows another
    room (delivered to 1 of 1, not read); Ada opens the room, so it is shown: read by 1 of 1."""
    room = unique_room("receipts")
    bob_page, ada_page = new_page(), new_page()
    sign_up(bob_page, stage.web_url, unique_user("bob"))
    sign_up(ada_page, stage.web_url, unique_user("ada"))
    join_room(ada_page, room)
    join_room(bob_page, room)
    ada_page.get_by_role("button", name="general", exact=True).click()
    expect(room_heading(ada_page)).to_have_text("#general")

    say(bob_page, "anyone here?")
    mine = ticks(bob_page, "anyone here?")
    expect(mine).to_have_attribute("data-status", "delivered", timeout=COUNTS_WAIT_MS)
    expect(mine).to_contain_text("Delivered to 1 of 1")

    conversation(ada_page, room).click()  # unread count and all: the room's button
    expect(chat_messages(ada_page, "anyone here?")).to_have_count(1)
    expect(mine).to_have_attribute("data-status", "read", timeout=COUNTS_WAIT_MS)
    expect(mine).to_contain_text("Read by 1 of 1")
