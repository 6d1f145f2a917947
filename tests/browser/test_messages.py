"""Messages as a messenger user expects them: right-to-left text laid out right to left, web
links that open safely in a new tab, the full date on the time, a clear reason when a draft is
too long to send, and no keyboard hint on a phone."""

from __future__ import annotations

import re
from datetime import datetime

from playwright.sync_api import expect

from tests.browser.helpers import (
    composer,
    messages,
    room_heading,
    send,
    sign_up,
    unique_person,
    unique_room,
)

HEBREW = "שלום, מה שלומך?"


def test_right_to_left_text_is_laid_out_right_to_left(new_page, stage):
    """A Hebrew line is shown right to left (its question mark at the left end), an English
    one left to right, each in its own direction whoever reads it."""
    alice_page, bob_page = new_page(), new_page()
    sign_up(alice_page, stage.web_url, unique_person("alice"))
    sign_up(bob_page, stage.web_url, unique_person("bob"))
    send(alice_page, HEBREW)
    send(alice_page, "Hello, how are you?")

    for page in (alice_page, bob_page):
        hebrew = messages(page, HEBREW).get_by_text(HEBREW, exact=True)
        expect(hebrew).to_have_attribute("dir", "auto")
        assert hebrew.evaluate("el => getComputedStyle(el).direction") == "rtl"
        english = messages(page, "Hello, how are you?").get_by_text("Hello", exact=False)
        assert english.evaluate("el => getComputedStyle(el).direction") == "ltr"
    # The question mark ends the sentence, so in right-to-left it is drawn leftmost.
    text = messages(bob_page, HEBREW).get_by_text(HEBREW, exact=True)
    mark_left, word_left = text.evaluate(
        """el => {
            const node = el.firstChild, range = document.createRange();
            const at = (i) => { range.setStart(node, i); range.setEnd(node, i + 1);
                                return range.getBoundingClientRect().left; };
            return [at(node.length - 1), at(0)];
        }"""
    )
    assert mark_left < word_left, "the question mark is not at the left of the Hebrew line"
    expect(composer(bob_page)).to_have_attribute("dir", "auto")


def test_links_in_messages_open_safely_in_a_new_tab(new_page, stage):
    """http(s) addresses become links that open a new tab with no opener and no referrer;
    other schemes stay plain text."""
    alice_page, bob_page = new_page(), new_page()
    sign_up(alice_page, stage.web_url, unique_person("alice"))
    sign_up(bob_page, stage.web_url, unique_person("bob"))
    room = unique_room("linked")
    address = f"{stage.web_url}?room={room}"
    text = f"Join us at {address}. Not these: javascript:alert(1) data:text/html,hi"
    send(alice_page, text)

    shown = messages(bob_page, text)
    link = shown.get_by_role("link", name=address)
    expect(link).to_have_attribute("href", address)
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(shown.get_by_role("link")).to_have_count(1)

    with bob_page.expect_popup() as opened:
        link.click()
    tab = opened.value
    expect(room_heading(tab)).to_have_text(f"#{room}")  # same browser: logged in, room opened
    assert tab.evaluate("window.opener") is None
    assert tab.evaluate("document.referrer") == ""


def test_each_message_time_gives_the_full_date_on_hover(new_page, stage):
    """The time beside a message carries the weekday, the full date and the time to the second
    as its tooltip."""
    page = new_page()
    sign_up(page, stage.web_url, unique_person("liam"))
    send(page, "what day is it?")
    time = messages(page, "what day is it?").get_by_role("time")
    sent = datetime.fromisoformat(time.get_attribute("datetime")).astimezone()  # local time
    full = re.compile(rf"^{sent:%A}, .*\b{sent.year}\b.*\b{sent.minute:02}:{sent.second:02}\b")
    expect(time).to_have_attribute("title", full)
    expect(messages(page, "what day is it?").get_by_title(full)).to_be_visible()
    expect(time).to_have_text(re.compile(r"^\d{1,2}:\d{2}"))
    expect(time).to_have_accessible_description(full)  # what a screen reader adds to the time


def test_a_draft_over_the_limit_says_why_it_cannot_be_sent(new_page, stage):
    """Over 4,000 characters the Send button is off and the page says why, tied to the box
    and the button; back under the limit, it sends."""
    page = new_page()
    sign_up(page, stage.web_url, unique_person("mia"))
    box = composer(page)
    send_button = page.get_by_role("button", name="Send message")
    box.fill("x" * 4_010)
    reason = "Too long to send: the limit is 4,000 characters. Remove 10."
    expect(page.get_by_text(reason)).to_be_visible()
    expect(send_button).to_be_disabled()
    expect(send_button).to_have_accessible_description(reason)
    expect(box).to_have_accessible_description(re.compile(re.escape(reason)))

    box.fill("x" * 4_000)
    expect(page.get_by_text("Too long to send", exact=False)).to_have_count(0)
    expect(send_button).to_be_enabled()
    send_button.click()
    expect(messages(page, "x" * 4_000)).to_have_count(1)


def test_a_phone_shows_no_enter_to_send_hint_and_enter_starts_a_new_line(new_page, stage):
    """On a touch phone there is no keyboard hint; Enter starts a new line and the Send button
    sends. On a desktop the hint is there and Enter sends."""
    desktop = new_page()
    sign_up(desktop, stage.web_url, unique_person("noah"))
    expect(desktop.get_by_text("Enter to send", exact=False)).to_be_visible()

    phone = new_page(375, 740, phone=True)
    sign_up(phone, stage.web_url, unique_person("olga"))
    expect(phone.get_by_text("Enter to send", exact=False)).to_have_count(0)
    box = composer(phone)
    box.tap()
    phone.keyboard.type("first line")
    phone.keyboard.press("Enter")
    phone.keyboard.type("second line")
    expect(box).to_have_value("first line\nsecond line")
    phone.get_by_role("button", name="Send message").tap()
    expect(messages(phone, "first line\nsecond line")).to_have_count(1)
    expect(messages(desktop, "first line\nsecond line")).to_have_count(1)
