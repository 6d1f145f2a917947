"""Rooms as a messenger user expects them: the room in the address (Back, Forward, reload and
shared links), unread messages counted in the tab's title, and a bad room name announced."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    join_room,
    message_list,
    messages,
    room_heading,
    send,
    sign_up,
    unique_person,
    unique_room,
)


def expect_room(page: Page, room: str) -> None:
    expect(room_heading(page)).to_have_text(f"#{room}")
    expect(page).to_have_url(re.compile(rf"[?&]room={room}$"))


def test_the_room_is_in_the_address_so_back_reload_and_links_work(new_page, stage):
    """Each room opened adds a history entry: Back and Forward move between rooms, a reload
    keeps the room, and a link to a room opens it after logging in."""
    page = new_page()
    sign_up(page, stage.web_url, unique_person("pia"))
    expect_room(page, "general")
    first, second = unique_room("first"), unique_room("second")
    join_room(page, first)
    expect_room(page, first)
    join_room(page, second)
    expect_room(page, second)

    page.go_back()
    expect_room(page, first)
    page.go_back()
    expect_room(page, "general")
    page.go_forward()
    expect_room(page, first)
    page.reload()
    expect_room(page, first)

    page.get_by_role("button", name=f"Leave {first}").click()
    expect_room(page, "general")

    shared = unique_room("shared")
    newcomer = new_page()
    newcomer.goto(f"{stage.web_url}?room={shared}")
    expect(newcomer.get_by_role("heading", name="Welcome back")).to_be_visible()
    sign_up(newcomer, stage.web_url, unique_person("quinn"), go=False)
    expect_room(newcomer, shared)
    send(newcomer, "found it through a link")
    expect(messages(newcomer, "found it through a link")).to_have_count(1)


def test_the_tab_title_counts_unread_messages(new_page, stage):
    """Messages from others in rooms not on screen, or in any room while the tab is in the
    background, are counted in the title; reading them clears the count."""
    room = unique_room("busy")
    alice_page, bob_page = new_page(), new_page()
    sign_up(alice_page, stage.web_url, unique_person("alice"))
    sign_up(bob_page, stage.web_url, unique_person("bob"))
    join_room(alice_page, room)
    join_room(bob_page, room)
    # The room's first history page is in: a message stored before it answers comes with the
    # page, not as a new broadcast, and is not counted (a busy machine once raced them).
    expect(message_list(bob_page)).to_contain_text("has no messages yet")
    bob_page.get_by_role("button", name="general", exact=True).click()
    expect(bob_page).to_have_title("#general · chatstack")

    send(alice_page, "one")
    send(alice_page, "two")
    expect(bob_page).to_have_title("(2) #general · chatstack")
    bob_page.get_by_role("button", name=f"{room}, 2 unread").click()
    expect(bob_page).to_have_title(f"#{room} · chatstack")

    # Headless chromium keeps every tab visible; switch this one to the background as the
    # browser does (visibilityState and its event), then back.
    set_visibility(bob_page, "hidden")
    send(alice_page, "while you were away")
    expect(bob_page).to_have_title(f"(1) #{room} · chatstack")
    set_visibility(bob_page, "visible")
    expect(bob_page).to_have_title(f"#{room} · chatstack")


def set_visibility(page: Page, state: str) -> None:
    page.evaluate(
        """state => {
            const own = (value) => ({ value, configurable: true });
            Object.defineProperty(document, "visibilityState", own(state));
            Object.defineProperty(document, "hidden", own(state === "hidden"));
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )


def test_an_invalid_room_name_is_announced(new_page, stage):
    """A room name the contract refuses gets an alert tied to the field, which keeps focus."""
    page = new_page()
    sign_up(page, stage.web_url, unique_person("rosa"))
    field = page.get_by_label("Join a room")
    field.fill("no spaces!")
    page.get_by_role("button", name="Join", exact=True).click()
    problem = "Use 1–64 letters, digits, “_” or “-”."
    expect(page.get_by_role("alert")).to_have_text(problem)
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(problem)
    expect(field).to_be_focused()
    expect(room_heading(page)).to_have_text("#general")
