"""WebSocket routes: acks, error frames for every invalid frame, and the connection survives."""

from __future__ import annotations

import json

import pytest

from tests.support.chat_client import Peer, unique_room


async def _still_alive(peer: Peer) -> None:
    room = unique_room()
    assert await peer.request({"action": "joinRoom", "roomId": room}) == {
        "type": "ack",
        "action": "joinRoom",
        "roomId": room,
    }


async def test_join_and_leave_are_acknowledged(peer: Peer):
    """joinRoom and leaveRoom answer acks naming the room, also when repeated."""
    room = unique_room()
    for action in ("joinRoom", "joinRoom", "leaveRoom", "leaveRoom"):
        answer = await peer.request({"action": action, "roomId": room})
        assert answer == {"type": "ack", "action": action, "roomId": room}


@pytest.mark.parametrize(
    "frame",
    ["not json", "[1,2]", "42", '"text"', "{", ""],
)
async def test_non_object_frame_gets_invalid_json(peer: Peer, frame: str):
    """A frame that is not a JSON object gets INVALID_JSON; the connection stays open."""
    answer = await peer.request(frame)
    assert answer["type"] == "error" and answer["code"] == "INVALID_JSON", answer
    await _still_alive(peer)


@pytest.mark.parametrize(
    "frame",
    [
        {},
        {"action": "explode"},
        {"action": 7},
        {"action": None},
        {"action": "$connect"},
        {"action": "$default"},
    ],
)
async def test_unknown_action_gets_error(peer: Peer, frame: dict):
    """A missing or unknown action gets UNKNOWN_ACTION; the connection stays open."""
    answer = await peer.request(frame)
    assert answer["type"] == "error" and answer["code"] == "UNKNOWN_ACTION", answer
    assert answer["message"]
    await _still_alive(peer)


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ({"action": "joinRoom"}, "roomId"),
        ({"action": "joinRoom", "roomId": ""}, "roomId"),
        ({"action": "joinRoom", "roomId": "x" * 65}, "roomId"),
        ({"action": "joinRoom", "roomId": "has space"}, "roomId"),
        ({"action": "joinRoom", "roomId": "émoji"}, "roomId"),
        ({"action": "leaveRoom", "roomId": 5}, "roomId"),
        ({"action": "sendMessage", "roomId": "general"}, "message"),
        ({"action": "sendMessage", "roomId": "general", "message": ""}, "message"),
        ({"action": "sendMessage", "roomId": "general", "message": "x" * 4001}, "message"),
        ({"action": "sendMessage", "roomId": "general", "message": 12}, "message"),
        (
            {
                "action": "sendMessage",
                "roomId": "general",
                "message": "hi",
                "clientMessageId": "x" * 65,
            },
            "clientMessageId",
        ),
        (
            {
                "action": "sendMessage",
                "roomId": "general",
                "message": "hi",
                "clientMessageId": "white space",
            },
            "clientMessageId",
        ),
        ({"action": "getMessages", "roomId": "general", "limit": 0}, "limit"),
        ({"action": "getMessages", "roomId": "general", "limit": 101}, "limit"),
        ({"action": "getMessages", "roomId": "general", "limit": "10"}, "limit"),
        ({"action": "getMessages", "roomId": "general", "limit": True}, "limit"),
        ({"action": "getMessages", "roomId": "general", "before": "yesterday"}, "before"),
        ({"action": "getMessages", "roomId": "general", "before": 17}, "before"),
    ],
)
async def test_invalid_field_gets_validation_error(peer: Peer, frame: dict, field: str):
    """Each field bound gets VALIDATION_ERROR naming the field and the action."""
    answer = await peer.request(frame)
    assert answer["type"] == "error", answer
    assert (answer["code"], answer["field"], answer["action"]) == (
        "VALIDATION_ERROR",
        field,
        frame["action"],
    ), answer
    await _still_alive(peer)


async def test_large_frame_under_the_gateway_limit_gets_error_frame(peer: Peer):
    """A 100 KB message field is refused with VALIDATION_ERROR; the connection survives."""
    frame = {"action": "sendMessage", "roomId": "general", "message": "x" * 100_000}
    answer = await peer.request(frame)
    assert (answer["type"], answer["code"], answer["field"]) == (
        "error",
        "VALIDATION_ERROR",
        "message",
    ), answer
    await _still_alive(peer)


async def test_send_to_room_not_joined_is_refused(peer: Peer):
    """sendMessage to a room the connection has not joined gets NOT_IN_ROOM."""
    room = unique_room()
    answer = await peer.request({"action": "sendMessage", "roomId": room, "message": "hi"})
    assert (answer["type"], answer["code"]) == ("error", "NOT_IN_ROOM"), answer
    await peer.join(room)
    await peer.request({"action": "leaveRoom", "roomId": room})
    answer = await peer.request({"action": "sendMessage", "roomId": room, "message": "hi"})
    assert answer["code"] == "NOT_IN_ROOM", answer


async def test_room_limit_per_connection(peer: Peer):
    """Joining a 51st room (general included) gets TOO_MANY_ROOMS; leaving one frees a place."""
    rooms = [unique_room() for _ in range(49)]
    for room in rooms:
        await peer.join(room)
    answer = await peer.request({"action": "joinRoom", "roomId": unique_room()})
    assert (answer["type"], answer["code"]) == ("error", "TOO_MANY_ROOMS"), answer
    await peer.join(rooms[0])  # joining one already joined is still fine
    await peer.request({"action": "leaveRoom", "roomId": rooms[0]})
    await peer.join(unique_room())


async def test_unknown_fields_are_ignored(peer: Peer):
    """Extra fields in a frame do not matter."""
    room = unique_room()
    answer = await peer.request({"action": "joinRoom", "roomId": room, "extra": {"a": 1}})
    assert answer == {"type": "ack", "action": "joinRoom", "roomId": room}


async def test_send_ack_shape(peer: Peer):
    """The sendMessage ack carries messageId, timestamp, clientMessageId and duplicate."""
    frame = {
        "action": "sendMessage",
        "roomId": "general",
        "message": "hi",
        "clientMessageId": "c-1:x",
    }
    ack = await peer.request(frame)
    assert ack["type"] == "ack" and ack["action"] == "sendMessage", ack
    assert ack["clientMessageId"] == "c-1:x" and ack["duplicate"] is False
    assert isinstance(ack["messageId"], str) and ack["messageId"]
    assert isinstance(ack["timestamp"], int) and ack["timestamp"] > 1_600_000_000_000
    assert json.loads(json.dumps(ack)) == ack
