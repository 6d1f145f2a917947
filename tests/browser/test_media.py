"""Files in messages (profile media) as people use them: one browser attaches an image and the
other sees it inline and full size; other files come as chips; a file too large or of a refused
type gets a clear reason before anything is uploaded."""

from __future__ import annotations

import struct
import zlib

from playwright.sync_api import Page, expect

from tests.browser.helpers import join_room, message_list, sign_up, unique_person, unique_room


def png(width: int, height: int) -> bytes:
    """A real PNG of ``width`` x ``height`` red pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def attach(page: Page, name: str, mime_type: str, data: bytes) -> None:
    """Choose a file with the composer's file picker (the Attach button's input)."""
    page.locator("#composer-file").set_input_files(
        files=[{"name": name, "mimeType": mime_type, "buffer": data}]
    )


def expect_uploaded(page: Page, name: str) -> None:
    expect(page.get_by_label(f"Uploading {name}")).to_have_attribute("data-done", "true")


def send_button(page: Page):
    return page.get_by_role("button", name="Send message")


def two_people_in_a_room(new_page, stage) -> tuple[Page, Page]:
    alice_page, bob_page = new_page(), new_page()
    sign_up(alice_page, stage.web_url, unique_person("alice"))
    sign_up(bob_page, stage.web_url, unique_person("bob"))
    room = unique_room("media")
    join_room(alice_page, room)
    join_room(bob_page, room)
    return alice_page, bob_page


def test_an_image_one_browser_sends_shows_in_the_other(new_page, stage):
    """Alice attaches a PNG (the progress bar completes), sends it with a caption; Bob sees the
    caption and the image itself loaded inline, and opens it full size."""
    alice_page, bob_page = two_people_in_a_room(new_page, stage)
    attach(alice_page, "red-square.png", "image/png", png(48, 32))
    expect_uploaded(alice_page, "red-square.png")
    alice_page.get_by_role("textbox", name="Message #").fill("a red square")
    send_button(alice_page).click()

    # An image inside a button is presentational for assistive technology: found by its alt.
    thumbnail = message_list(bob_page).locator("img[alt='red-square.png']")
    expect(thumbnail).to_be_visible()
    expect(message_list(bob_page).get_by_text("a red square")).to_be_visible()
    expect(thumbnail).to_have_js_property("complete", True)
    assert thumbnail.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [48, 32]
    message_list(bob_page).get_by_role("button", name="Open image red-square.png").click()
    viewer = bob_page.get_by_role("dialog", name="red-square.png")
    expect(viewer.get_by_role("img", name="red-square.png")).to_be_visible()
    bob_page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    own = message_list(alice_page).locator("img[alt='red-square.png']")
    expect(own).to_be_visible()


def test_other_files_arrive_as_chips_and_alone(new_page, stage):
    """A PDF sent without text reaches the other person as a chip with its name and size."""
    alice_page, bob_page = two_people_in_a_room(new_page, stage)
    attach(alice_page, "notes.pdf", "application/pdf", b"%PDF-1.4\n" + b"x" * 2048)
    expect_uploaded(alice_page, "notes.pdf")
    send_button(alice_page).click()
    chip = message_list(bob_page).get_by_role("button", name="notes.pdf")
    expect(chip).to_be_visible()
    expect(chip).to_contain_text("2 KB")


def test_a_refused_file_is_explained_and_never_uploaded(new_page, stage):
    """An HTML file and a file over 10 MiB get a clear reason each; Send stays disabled."""
    (page,) = (new_page(),)
    sign_up(page, stage.web_url, unique_person("carol"))
    attach(page, "page.html", "text/html", b"<script>alert(1)</script>")
    expect(page.get_by_role("alert")).to_contain_text("page.html can't be sent")
    attach(page, "huge.png", "image/png", b"\x89PNG" + b"\x00" * (10 * 1024 * 1024))
    expect(page.get_by_role("alert")).to_contain_text("huge.png is too large (10.0 MB)")
    expect(page.get_by_role("list", name="Files to send")).to_have_count(0)
    expect(send_button(page)).to_be_disabled()
