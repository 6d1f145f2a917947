"""Area routes: acks and error frames for each action (CONTRACT.md §1 and §3)."""

from __future__ import annotations

import pytest

from conformance.client import Peer, is_ack, unique_room
from conformance.plugin import MUST, check


async def still_open(peer: Peer) -> None:
    """The connection still answers after an error frame."""
    room = unique_room()
    answer = await peer.request({"action": "joinRoom", "roomId": room})
    assert is_ack(answer, "joinRoom", room), (
        f"the connection no longer answers after an error frame: got {answer}"
    )


def expect_error(answer: dict, code: str, field: str | None = None, action: str | None = None):
    assert answer.get("type") == "error", f"expected an error frame {code}, got {answer}"
    assert answer.get("code") == code, f"expected code {code}, got {answer}"
    assert isinstance(answer.get("message"), str) and answer["message"], f"no message: {answer}"
    if field is not None:
        assert answer.get("field") == field, f"expected field {field!r}, got {answer}"
    if action is not None:
        assert answer.get("action") == action, f"expected action {action!r}, got {answer}"


@check("ROUTE-001", MUST)
async def check_join_room_is_acknowledged(peer: Peer):
    """§3 joinRoom: answers {type: ack, action: joinRoom, roomId}, also when joined already."""
    room = unique_room()
    for _ in range(2):
        answer = await peer.request({"action": "joinRoom", "roomId": room})
        assert is_ack(answer, "joinRoom", room), f"expected the ack, got {answer}"


@check("ROUTE-002", MUST)
async def check_leave_room_is_acknowledged(peer: Peer):
    """§3 leaveRoom: answers its ack, also for a room not joined."""
    room = unique_room()
    await peer.join(room)
    for _ in range(2):
        answer = await peer.request({"action": "leaveRoom", "roomId": room})
        assert is_ack(answer, "leaveRoom", room), f"expected the ack, got {answer}"


@check("ROUTE-003", MUST)
async def check_send_message_is_acknowledged(peer: Peer):
    """§3 sendMessage: the ack carries roomId, clientMessageId, messageId, timestamp, duplicate."""
    room = unique_room()
    await peer.join(room)
    frame = {"action": "sendMessage", "roomId": room, "message": "hi", "clientMessageId": "c-1:x"}
    ack = await peer.request(frame)
    assert ack.get("type") == "ack" and ack.get("action") == "sendMessage", str(ack)
    assert ack.get("roomId") == room and ack.get("clientMessageId") == "c-1:x", str(ack)
    assert ack.get("duplicate") is False, str(ack)
    assert isinstance(ack.get("messageId"), str) and ack["messageId"], str(ack)
    assert isinstance(ack.get("timestamp"), int) and ack["timestamp"] > 1_600_000_000_000, str(ack)
    without = await peer.request({"action": "sendMessage", "roomId": room, "message": "hi"})
    assert "clientMessageId" in without and without["clientMessageId"] is None, str(without)


@check("ROUTE-004", MUST)
async def check_get_messages_answers_a_page(peer: Peer):
    """§3 getMessages: answers {type: messages, roomId, messages: [...], nextBefore}."""
    room = unique_room()
    answer = await peer.request({"action": "getMessages", "roomId": room})
    page = {k: answer.get(k, "<missing>") for k in ("type", "roomId", "messages", "nextBefore")}
    assert page == {"type": "messages", "roomId": room, "messages": [], "nextBefore": None}, (
        f"expected an empty page of a new room, got {answer}"
    )


@check("ROUTE-005", MUST)
@pytest.mark.parametrize("frame", ["not json", "[1,2]", "42", '"text"', "{", "null"])
async def check_frame_that_is_not_a_json_object_gets_invalid_json(peer: Peer, frame: str):
    """§1: a frame that is not a JSON object gets INVALID_JSON and the connection stays open."""
    expect_error(await peer.request(frame), "INVALID_JSON")
    await still_open(peer)


@check("ROUTE-006", MUST)
@pytest.mark.parametrize(
    "frame",
    [
        {},
        {"action": "explode"},
        {"action": 7},
        {"action": None},
        {"action": "$connect"},
        {"action": "$disconnect"},
        {"action": "SENDMESSAGE", "roomId": "general", "message": "x"},
    ],
    ids=["none", "unknown", "number", "null", "connect", "disconnect", "case"],
)
async def check_missing_or_unknown_action_gets_unknown_action(peer: Peer, frame: dict):
    """§1: a frame without a known action gets UNKNOWN_ACTION and the connection stays open."""
    expect_error(await peer.request(frame), "UNKNOWN_ACTION")
    await still_open(peer)


@check("ROUTE-007", MUST)
@pytest.mark.parametrize("action", ["joinRoom", "leaveRoom", "sendMessage", "getMessages"])
@pytest.mark.parametrize("room", [None, "", "x" * 65, "has space", "émoji", "a/b", 5])
async def check_invalid_room_id_gets_validation_error(peer: Peer, action: str, room):
    """§3: a roomId that is not 1-64 of [A-Za-z0-9_-] gets VALIDATION_ERROR on roomId."""
    frame = {"action": action, "message": "hi"}
    if room is not None:
        frame["roomId"] = room
    expect_error(await peer.request(frame), "VALIDATION_ERROR", "roomId", action)


@check("ROUTE-008", MUST)
async def check_send_to_a_room_not_joined_gets_not_in_room(peer: Peer):
    """§3: sendMessage to a room not joined (or left) gets NOT_IN_ROOM."""
    room = unique_room()
    frame = {"action": "sendMessage", "roomId": room, "message": "hi"}
    expect_error(await peer.request(frame), "NOT_IN_ROOM", action="sendMessage")
    await peer.join(room)
    await peer.request({"action": "leaveRoom", "roomId": room})
    expect_error(await peer.request(frame), "NOT_IN_ROOM", action="sendMessage")


@check("ROUTE-009", MUST)
async def check_unknown_fields_are_ignored(peer: Peer):
    """§3: fields a frame does not need are ignored."""
    room = unique_room()
    answer = await peer.request({"action": "joinRoom", "roomId": room, "extra": {"a": [1]}})
    assert is_ack(answer, "joinRoom", room), f"expected the ack, got {answer}"


@check("ROUTE-010", MUST)
async def check_fifty_rooms_per_connection(peer: Peer):
    """§1: a connection may be in 50 rooms (general included); the 51st gets TOO_MANY_ROOMS."""
    rooms = [unique_room() for _ in range(49)]
    for room in rooms:
        await peer.join(room)
    expect_error(
        await peer.request({"action": "joinRoom", "roomId": unique_room()}), "TOO_MANY_ROOMS"
    )
    await peer.join(rooms[0])
    await peer.request({"action": "leaveRoom", "roomId": rooms[0]})
    await peer.join(unique_room())
