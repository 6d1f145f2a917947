"""Receipts, typing and presence in the web app (contract v3), two people in two browsers: the
ticks of one's own message go from delivered to read, "… is typing" shows while the other
types, and the other's closing their browser shows them offline with when they were last seen."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.browser.helpers import room_heading, sign_up
from tests.browser.test_chats import (
    chat_messages,
    conversation,
    say,
    start_direct_chat,
    unique_user,
)


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
