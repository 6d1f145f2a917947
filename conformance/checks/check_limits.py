"""Area limits: payload sizes and field bounds (CONTRACT.md §2 and §3, Bounds)."""

from __future__ import annotations

import pytest

from conformance.client import (
    FRAME_LIMIT_BYTES,
    MESSAGE_LIMIT_BYTES,
    Peer,
    is_ack,
    unique_email,
    unique_room,
)
from conformance.plugin import MUST, check


def expect_validation(answer: dict, field: str) -> None:
    assert answer.get("type") == "error" and answer.get("code") == "VALIDATION_ERROR", (
        f"expected VALIDATION_ERROR on {field}, got {answer}"
    )
    assert answer.get("field") == field, f"expected field {field!r}, got {answer}"


async def joined(peer: Peer) -> str:
    room = unique_room()
    await peer.join(room)
    return room


@check("LIMIT-001", MUST)
async def check_message_of_4000_characters_is_accepted(peer: Peer):
    """§3 bounds: a 4,000-character message (multi-byte characters included) is accepted."""
    room = await joined(peer)
    text = "é" * 2000 + "😀" * 2000
    ack = await peer.request({"action": "sendMessage", "roomId": room, "message": text})
    assert ack.get("type") == "ack", f"expected an ack, got {ack}"
    frame = await peer.message(lambda f: f.get("roomId") == room)
    assert frame["message"] == text, "the 4,000-character message came back altered"


@check("LIMIT-002", MUST)
@pytest.mark.parametrize(
    "message", ["x" * 4001, "", 12, None, ["a"]], ids=["4001", "empty", "number", "missing", "list"]
)
async def check_message_out_of_bounds_is_refused(peer: Peer, message):
    """§3 bounds: a message that is not a string of 1-4,000 characters gets VALIDATION_ERROR."""
    frame = {"action": "sendMessage", "roomId": await joined(peer)}
    if message is not None:
        frame["message"] = message
    expect_validation(await peer.request(frame), "message")


@check("LIMIT-003", MUST)
async def check_room_id_of_64_characters_is_accepted(peer: Peer):
    """§3 bounds: a 64-character roomId of the allowed characters is accepted."""
    room = ("Az09_-" * 11)[:64]
    answer = await peer.request({"action": "joinRoom", "roomId": room})
    assert is_ack(answer, "joinRoom", room), f"expected the ack, got {answer}"


@check("LIMIT-004", MUST)
@pytest.mark.parametrize(
    "value",
    ["x" * 65, "white space", "a/b", "", 7, "line\n"],
    ids=["65", "space", "slash", "empty", "number", "newline"],
)
async def check_client_message_id_out_of_bounds_is_refused(peer: Peer, value):
    """§3 bounds: a clientMessageId that is not 1-64 of [A-Za-z0-9_-.:] gets VALIDATION_ERROR."""
    frame = {
        "action": "sendMessage",
        "roomId": await joined(peer),
        "message": "hi",
        "clientMessageId": value,
    }
    expect_validation(await peer.request(frame), "clientMessageId")


@check("LIMIT-005", MUST)
@pytest.mark.parametrize(
    "limit", [0, 101, -1, "10", True, 1.5], ids=["0", "101", "negative", "string", "bool", "float"]
)
async def check_history_limit_out_of_bounds_is_refused(peer: Peer, limit):
    """§3 bounds: a limit that is not an integer 1-100 gets VALIDATION_ERROR."""
    frame = {"action": "getMessages", "roomId": unique_room(), "limit": limit}
    expect_validation(await peer.request(frame), "limit")


@check("LIMIT-006", MUST)
@pytest.mark.parametrize("before", ["yesterday", 17, "", "0000000000000#zz"])
async def check_malformed_cursor_is_refused(peer: Peer, before):
    """§3 bounds: a before cursor that was never returned as nextBefore gets VALIDATION_ERROR."""
    frame = {"action": "getMessages", "roomId": unique_room(), "before": before}
    expect_validation(await peer.request(frame), "before")


@check("LIMIT-007", MUST)
async def check_message_over_128_kb_closes_with_1009(peer: Peer):
    """§3 bounds: a message over 128 KB, sent in frames under 32 KB, closes with code 1009."""
    text = '{"action":"sendMessage","roomId":"general","message":"' + "x" * 131_100 + '"}'
    await peer.send_in_frames(text)
    code = await peer.closed()
    assert code == 1009, f"expected close code 1009, got {code}"


@check("LIMIT-008", MUST)
async def check_large_message_under_128_kb_gets_an_error_frame(peer: Peer):
    """§3 bounds: a 100 KB message in frames under 32 KB gets an error frame, and no close."""
    await peer.send_in_frames(
        {"action": "sendMessage", "roomId": await joined(peer), "message": "x" * 100_000}
    )
    expect_validation(await peer.reply(), "message")
    follow_up = await peer.request({"action": "getMessages", "roomId": unique_room()})
    assert follow_up.get("type") == "messages", f"the connection did not survive: {follow_up}"


@check("LIMIT-009", MUST)
async def check_password_byte_bounds(rest):
    """§2 bounds: a password of 72 UTF-8 bytes is accepted, 73 bytes are refused."""
    ok = await rest.post(
        "/signup", {"email": unique_email(), "password": "é" * 36, "username": "al"}
    )
    assert ok.status == 201, f"a 72-byte password must be accepted, got {ok}"
    refused = await rest.post(
        "/signup", {"email": unique_email(), "password": "é" * 36 + "x", "username": "al"}
    )
    assert refused.status == 400, f"expected 400 for 73 bytes, got {refused}"
    assert refused.body["error"]["field"] == "password", str(refused)


@check("LIMIT-010", MUST)
async def check_email_longer_than_254_characters_is_refused(rest):
    """§2 bounds: an e-mail over 254 characters is refused with VALIDATION_ERROR on email."""
    email = "a" * 246 + "@" + "example.io"  # 257 characters
    answer = await rest.post("/signup", {"email": email, "password": "password1", "username": "al"})
    assert answer.status == 400, f"expected 400, got {answer}"
    assert answer.body["error"]["field"] == "email", str(answer)


@check("LIMIT-011", MUST)
async def check_frame_over_32_kb_closes_with_1009(peer: Peer):
    """§3 bounds: a single frame over 32 KB closes the connection with code 1009."""
    text = '{"action":"sendMessage","roomId":"general","message":"' + "x" * FRAME_LIMIT_BYTES
    await peer.send(text + '"}')
    code = await peer.closed()
    assert code == 1009, f"expected close code 1009, got {code}"


@check("LIMIT-012", MUST)
async def check_history_pages_stay_under_128_kb(peer: Peer):
    """§3 history: a page of large messages stays under 128 KB; nextBefore names the rest."""
    room = await joined(peer)
    sent = []
    for n in range(10):  # 10 x 4,000 emoji: 160 KB of UTF-8, more than one message may carry
        ack = await peer.request(
            {"action": "sendMessage", "roomId": room, "message": f"{n:04d}" + "😀" * 3996}
        )
        assert ack.get("type") == "ack", f"expected an ack, got {ack}"
        sent.append(ack["messageId"])
    seen, before, pages = [], None, 0
    while pages < 12:
        request = {"action": "getMessages", "roomId": room, "limit": 100}
        if before is not None:
            request["before"] = before
        await peer.send(request)
        page, size = await peer.reply_with_size()
        assert page.get("type") == "messages", f"expected a history page, got {page}"
        assert size <= MESSAGE_LIMIT_BYTES, f"a history page of {size} bytes (over 128 KB)"
        seen = [m["messageId"] for m in page["messages"]] + seen
        pages, before = pages + 1, page["nextBefore"]
        if before is None:
            break
    assert pages > 1, "160 KB of messages came in one page (over 128 KB)"
    assert sorted(seen) == sorted(sent) and len(set(seen)) == len(seen), (
        "paging by nextBefore did not return every message exactly once"
    )
