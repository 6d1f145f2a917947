"""How the app looks and reads at desktop and phone widths: screenshots for the reports, and
axe-core's accessibility checks on every view and state a person meets."""

from __future__ import annotations

from playwright.sync_api import expect

from reference_stack.local.config import REPO_ROOT
from tests.browser.helpers import (
    axe_violations,
    composer,
    connection_status,
    email_field,
    expect_connected,
    messages,
    send,
    sign_up,
    unique_person,
)

WIDTHS = ((1280, 800, False), (375, 740, True))  # desktop; a phone (touch, mobile viewport)
RTL_LINE = "שלום לכולם, מה שלומכם?"


def test_screenshots_at_desktop_and_phone_widths(new_page, stage, screenshots):
    """The login page, the chat (a link, a right-to-left line, a two-line message) and the
    rooms drawer at 1280 and 375 px wide, kept under reports/screenshots/; nothing overflows."""
    other = new_page()
    sign_up(other, stage.web_url, unique_person("grace"))
    for width, height, phone in WIDTHS:
        page = new_page(width, height, phone=phone)
        page.goto(stage.web_url)
        expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
        page.screenshot(path=screenshots / f"login-{width}.png", animations="disabled")
        page.get_by_role("button", name="Create an account").click()
        page.get_by_role("button", name="Sign up").click()
        expect(email_field(page)).to_be_focused()
        page.screenshot(path=screenshots / f"signup-errors-{width}.png", animations="disabled")
        sign_up(page, stage.web_url, unique_person("henry"))
        send(other, f"Hello from the other side at {width} px, see {stage.web_url}?room=design")
        rtl = f"{RTL_LINE} {width}"
        send(other, rtl)
        mine = f"Looks good at {width} px!\nA second line, long enough to show how a message wraps."
        box = composer(page)
        box.fill(mine)
        page.get_by_role("button", name="Send message").click()
        expect(messages(page, rtl)).to_have_count(1)
        expect(messages(page, mine)).to_have_count(1)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=screenshots / f"chat-{width}.png", animations="disabled")
        if phone:
            page.get_by_role("button", name="Rooms").click()
            expect(page.get_by_label("Join a room")).to_be_visible()
            page.screenshot(path=screenshots / f"rooms-{width}.png", animations="disabled")
            page.keyboard.press("Escape")
            expect(page.get_by_label("Join a room")).to_be_hidden()
            expect(page.get_by_role("button", name="Rooms")).to_be_focused()


def test_pages_pass_axe_accessibility_checks(new_page, stage):
    """axe-core finds no WCAG 2.1 A/AA or best-practice violation at 1280 and 375 px: login,
    sign-up with every error shown and the password visible, the chat with links, right-to-left
    text and an over-long draft, the offline state, and the rooms drawer with a join error."""
    axe = REPO_ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
    assert axe.is_file(), f"{axe} is missing: install the front end first (`make frontend`)"
    found: dict[str, list] = {}
    other = new_page()
    sign_up(other, stage.web_url, unique_person("jane"))
    for width, height, phone in WIDTHS:
        page = new_page(width, height, phone=phone)
        page.goto(stage.web_url)
        expect(page.get_by_role("heading", name="Welcome back")).to_be_visible()
        found[f"login-{width}"] = axe_violations(page, str(axe))
        page.get_by_role("button", name="Create an account").click()
        page.get_by_label("Display name").fill("x" * 40)
        page.get_by_role("button", name="Sign up").click()
        page.get_by_role("button", name="Show password").click()
        expect(email_field(page)).to_have_attribute("aria-invalid", "true")
        found[f"signup-errors-{width}"] = axe_violations(page, str(axe))

        sign_up(page, stage.web_url, unique_person("iris"))
        send(other, f"An accessible hello at {width} px: {stage.web_url}?room=a11y")
        rtl = f"{RTL_LINE} axe {width}"
        send(other, rtl)
        expect(messages(page, rtl)).to_have_count(1)
        composer(page).fill("x" * 4_010)
        expect(
            page.get_by_text("Too long to send: the limit is 4,000 characters. Remove 10.")
        ).to_be_visible()
        found[f"chat-{width}"] = axe_violations(page, str(axe))
        composer(page).fill("")

        page.context.set_offline(True)
        expect(connection_status(page)).to_have_text("Offline")
        found[f"offline-{width}"] = axe_violations(page, str(axe))
        page.context.set_offline(False)
        expect_connected(page)

        if phone:
            page.get_by_role("button", name="Rooms").click()
        page.get_by_label("Join a room").fill("not a room!")
        page.get_by_role("button", name="Join", exact=True).click()
        expect(page.get_by_role("alert")).to_be_visible()
        found[f"rooms-{width}"] = axe_violations(page, str(axe))
    assert {view: v for view, v in found.items() if v} == {}
