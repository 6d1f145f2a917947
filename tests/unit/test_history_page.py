"""History pages fit one WebSocket message: lambdas/domain/messages.py fit_history_page."""

from __future__ import annotations

import json

from lambdas.contract.frames import HISTORY_FRAME_MAX_BYTES, Message, encode, history_frame
from lambdas.domain import keys
from lambdas.domain.messages import fit_history_page

T0 = 1_700_000_000_000


def messages(count: int, text: str) -> list[Message]:
    """``count`` messages of ``text``, oldest first."""
    return [
        Message(f"{n:08d}-0000-4000-8000-000000000000", "general", "u1", "Ada", text, T0 + n)
        for n in range(count)
    ]


def size(room: str, page: list[Message], cursor: str | None) -> int:
    return len(encode(history_frame(room, page, cursor)).encode("utf-8"))


def test_a_page_that_fits_is_kept_whole_with_its_cursor():
    """50 short messages and the store's cursor come back unchanged."""
    page = messages(50, "hello")
    assert fit_history_page("general", page, "cursor") == (page, "cursor")


def test_a_page_over_the_limit_keeps_the_newest_messages_and_names_the_rest():
    """50 messages of 4,000 characters (~211 KB) are cut to the newest that fit; nextBefore is
    the cursor of the oldest kept, so the next page starts right before it."""
    page = messages(50, "x" * 4000)
    kept, cursor = fit_history_page("general", page, None)
    assert 0 < len(kept) < 50
    assert kept == page[-len(kept) :]
    assert cursor == keys.message_sort_key(kept[0].timestamp, kept[0].message_id)
    assert size("general", kept, cursor) <= HISTORY_FRAME_MAX_BYTES
    one_more = page[-len(kept) - 1 :]
    assert size("general", one_more, cursor) > HISTORY_FRAME_MAX_BYTES, "the page is not full"


def test_emoji_are_measured_in_utf8_bytes():
    """100 messages of 4,000 emoji (~1.6 MB as UTF-8) give pages under the limit."""
    page = messages(100, "😀" * 4000)
    kept, cursor = fit_history_page("general", page, None)
    assert size("general", kept, cursor) <= HISTORY_FRAME_MAX_BYTES
    assert len(kept) == HISTORY_FRAME_MAX_BYTES // len("😀".encode() * 4000)


def test_json_escapes_count_toward_the_size():
    """Characters JSON escapes (quotes, control characters) are measured as sent."""
    page = messages(30, '"\x01' * 2000)
    kept, cursor = fit_history_page("general", page, None)
    assert size("general", kept, cursor) <= HISTORY_FRAME_MAX_BYTES
    assert json.loads(encode(history_frame("general", kept, cursor)))["nextBefore"] == cursor


def test_the_limit_is_below_api_gateways_message_limit():
    """The page budget leaves room under 128 KB, whether a KB is 1,000 or 1,024 bytes."""
    assert HISTORY_FRAME_MAX_BYTES < 128_000
