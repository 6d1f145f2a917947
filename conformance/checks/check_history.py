"""Area history: getMessages pages, oldest first, with a cursor (CONTRACT.md §3, History)."""

from __future__ import annotations

from conformance.client import Peer, unique_room
from conformance.plugin import MUST, check

FIELDS = {"messageId", "roomId", "userId", "username", "message", "timestamp", "clientMessageId"}


async def fill(peer: Peer, room: str, count: int) -> list[str]:
    """Send ``count`` messages; their ids oldest first, as the contract orders history: by
    (timestamp, messageId) — not by sending order, which two sends of one millisecond may break."""
    await peer.join(room)
    acks = []
    for i in range(count):
        ack = await peer.request({"action": "sendMessage", "roomId": room, "message": f"m{i}"})
        assert ack.get("type") == "ack", f"sendMessage: expected an ack, got {ack}"
        acks.append((ack["timestamp"], ack["messageId"]))
    return [message_id for _, message_id in sorted(acks)]


async def page(peer: Peer, room: str, **options) -> dict:
    answer = await peer.request({"action": "getMessages", "roomId": room, **options})
    assert answer.get("type") == "messages", f"expected a messages frame, got {answer}"
    return answer


@check("HIST-001", MUST)
async def check_history_is_oldest_first(peer: Peer):
    """§3 history: messages come back oldest first by (timestamp, messageId), shaped as
    broadcasts without type."""
    room = unique_room()
    ids = await fill(peer, room, 3)
    answer = await page(peer, room)
    got = [m.get("messageId") for m in answer["messages"]]
    assert got == ids, f"expected {ids} (oldest first), got {got}"
    for message in answer["messages"]:
        assert set(message) >= FIELDS, f"expected fields {sorted(FIELDS)}, got {message}"
        assert message["roomId"] == room and message["userId"], f"got {message}"
    stamps = [m["timestamp"] for m in answer["messages"]]
    assert stamps == sorted(stamps), f"timestamps out of order: {stamps}"
    assert answer["nextBefore"] is None, f"expected no older page, got {answer['nextBefore']!r}"


@check("HIST-002", MUST)
async def check_paging_returns_every_message_once_in_order(peer: Peer):
    """§3 history: paging with before through 11 messages (limit 4) yields each once, in order."""
    room = unique_room()
    ids = await fill(peer, room, 11)
    pages, before = [], None
    for _ in range(6):
        answer = await page(peer, room, limit=4, **({"before": before} if before else {}))
        pages.append([m["messageId"] for m in answer["messages"]])
        before = answer["nextBefore"]
        if before is None:
            break
    assert [len(p) for p in pages] == [4, 4, 3], f"expected pages of 4, 4, 3; got {pages}"
    flat = [i for p in reversed(pages) for i in p]
    assert flat == ids, f"expected {ids}, got {flat}"


@check("HIST-003", MUST)
async def check_a_full_last_page_has_no_cursor(peer: Peer):
    """§3 history: when the last page is exactly full, nextBefore is null."""
    room = unique_room()
    await fill(peer, room, 4)
    answer = await page(peer, room, limit=4)
    assert len(answer["messages"]) == 4, str(answer)
    assert answer["nextBefore"] is None, f"expected null, got {answer['nextBefore']!r}"


@check("HIST-004", MUST)
async def check_default_limit_is_fifty(peer: Peer):
    """§3 history: without limit a page holds 50 messages."""
    room = unique_room()
    ids = await fill(peer, room, 51)
    answer = await page(peer, room)
    got = [m["messageId"] for m in answer["messages"]]
    assert got == ids[1:], f"expected the newest 50 oldest first, got {len(got)} messages"
    assert isinstance(answer["nextBefore"], str), f"expected a cursor, got {answer['nextBefore']!r}"
    rest = await page(peer, room, before=answer["nextBefore"])
    assert [m["messageId"] for m in rest["messages"]] == ids[:1], str(rest)


@check("HIST-005", MUST)
async def check_history_is_per_room(peer: Peer):
    """§3 history: a room's history holds only its own messages."""
    a, b = unique_room(), unique_room()
    await fill(peer, a, 2)
    ids_b = await fill(peer, b, 1)
    got = [m["messageId"] for m in (await page(peer, b))["messages"]]
    assert got == ids_b, f"expected only room b's message {ids_b}, got {got}"


@check("HIST-006", MUST)
async def check_history_needs_no_membership(peer: Peer, connect, rest):
    """§3 history: reading a room's history does not require joining it."""
    room = unique_room()
    ids = await fill(peer, room, 2)
    reader = await connect(await rest.new_user("reader"))
    got = [m["messageId"] for m in (await page(reader, room))["messages"]]
    assert got == ids, f"expected {ids}, got {got}"
