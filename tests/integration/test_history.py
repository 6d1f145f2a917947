"""getMessages: pages of a room's history, oldest first, with a cursor that never skips."""

from __future__ import annotations

from tests.support.chat_client import Peer, unique_room


async def _fill(peer: Peer, room: str, count: int) -> list[str]:
    await peer.join(room)
    ids = []
    for i in range(count):
        ack = await peer.request({"action": "sendMessage", "roomId": room, "message": f"m{i}"})
        ids.append(ack["messageId"])
    return ids


async def test_history_is_oldest_first_with_default_limit(peer: Peer):
    """Without limit, up to 50 messages come back oldest first, nextBefore null when complete."""
    room = unique_room()
    ids = await _fill(peer, room, 3)
    page = await peer.request({"action": "getMessages", "roomId": room})
    assert page["type"] == "messages" and page["roomId"] == room, page
    assert [m["messageId"] for m in page["messages"]] == ids
    assert [m["message"] for m in page["messages"]] == ["m0", "m1", "m2"]
    assert page["nextBefore"] is None
    first = page["messages"][0]
    assert set(first) == {
        "messageId",
        "roomId",
        "userId",
        "username",
        "message",
        "timestamp",
        "clientMessageId",
    }
    stamps = [m["timestamp"] for m in page["messages"]]
    assert stamps == sorted(stamps)


async def test_paging_backwards_returns_every_message_once(peer: Peer):
    """Paging with limit 4 through 11 messages yields all of them once, in order."""
    room = unique_room()
    ids = await _fill(peer, room, 11)
    pages, before = [], None
    for _ in range(10):
        frame = {"action": "getMessages", "roomId": room, "limit": 4}
        if before:
            frame["before"] = before
        page = await peer.request(frame)
        assert page["type"] == "messages", page
        pages.append([m["messageId"] for m in page["messages"]])
        before = page["nextBefore"]
        if before is None:
            break
    assert [len(p) for p in pages] == [4, 4, 3]
    assert [i for page in reversed(pages) for i in page] == ids


async def test_exact_page_has_no_dangling_cursor(peer: Peer):
    """When the last page is exactly full, nextBefore is null (no empty page follows)."""
    room = unique_room()
    await _fill(peer, room, 4)
    page = await peer.request({"action": "getMessages", "roomId": room, "limit": 4})
    assert len(page["messages"]) == 4 and page["nextBefore"] is None, page


async def test_empty_and_unjoined_rooms_have_empty_history(peer: Peer):
    """A room without messages answers an empty page; reading does not require joining."""
    page = await peer.request({"action": "getMessages", "roomId": unique_room(), "limit": 1})
    assert page["messages"] == [] and page["nextBefore"] is None


async def test_history_is_per_room(peer: Peer):
    """Messages of one room never appear in another's history."""
    a, b = unique_room(), unique_room()
    await _fill(peer, a, 2)
    ids_b = await _fill(peer, b, 1)
    page = await peer.request({"action": "getMessages", "roomId": b})
    assert [m["messageId"] for m in page["messages"]] == ids_b
