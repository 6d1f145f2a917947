"""The frames the server sends (lambdas/contract/frames.py) against CONTRACT.md §3."""

from __future__ import annotations

import json

from lambdas.contract.errors import NotInRoom, ValidationFailed
from lambdas.contract.frames import (
    Message,
    ack_room,
    ack_send,
    chat_added_frame,
    chat_removed_frame,
    encode,
    error_frame,
    history_frame,
    message_frame,
    room_joined_frame,
    room_left_frame,
)

MESSAGE_FIELDS = {
    "messageId",
    "roomId",
    "userId",
    "username",
    "message",
    "timestamp",
    "clientMessageId",
}


def sample(**overrides):
    values = {
        "message_id": "m-1",
        "room_id": "general",
        "user_id": "u-1",
        "username": "Ada",
        "message": "héllo <b>😀</b>",
        "timestamp": 1_700_000_000_123,
        "client_message_id": "c-1",
    }
    values.update(overrides)
    return Message(**values)


def test_message_to_wire_uses_the_contract_field_names():
    """A stored message serialises to exactly the seven camelCase fields of the contract."""
    wire = sample().to_wire()
    assert set(wire) == MESSAGE_FIELDS
    assert wire["messageId"] == "m-1"
    assert wire["roomId"] == "general"
    assert wire["userId"] == "u-1"
    assert wire["username"] == "Ada"
    assert wire["message"] == "héllo <b>😀</b>"
    assert wire["timestamp"] == 1_700_000_000_123
    assert wire["clientMessageId"] == "c-1"


def test_message_without_client_message_id_serialises_it_as_null():
    """clientMessageId is present and null when the sender gave none."""
    encoded = encode(message_frame(sample(client_message_id=None)))
    assert json.loads(encoded)["clientMessageId"] is None
    assert '"clientMessageId":null' in encoded


def test_message_frame_is_the_message_with_type_message():
    """The broadcast frame is type=message plus the message fields, nothing else."""
    frame = message_frame(sample())
    assert frame["type"] == "message"
    assert set(frame) == MESSAGE_FIELDS | {"type"}


def test_encode_is_compact_and_keeps_non_ascii_text_unescaped():
    """encode emits compact JSON and sends non-ASCII characters as themselves."""
    encoded = encode({"a": "é😀", "b": [1, 2]})
    assert encoded == '{"a":"é😀","b":[1,2]}'
    assert json.loads(encoded.encode("utf-8")) == {"a": "é😀", "b": [1, 2]}


def test_encode_round_trips_html_and_whitespace_verbatim():
    """HTML and whitespace in a message survive encoding unchanged."""
    text = '  <script>alert("x")</script>\n\t '
    assert json.loads(encode(message_frame(sample(message=text))))["message"] == text


def test_ack_room_names_the_action_and_room():
    """joinRoom and leaveRoom are acknowledged with type, action and roomId."""
    assert ack_room("joinRoom", "r1") == {"type": "ack", "action": "joinRoom", "roomId": "r1"}
    assert ack_room("leaveRoom", "r2") == {"type": "ack", "action": "leaveRoom", "roomId": "r2"}


def test_ack_send_carries_the_stored_message_identity_and_duplicate_flag():
    """The sendMessage ack names the stored message and whether it was a repeat."""
    message = sample()
    for duplicate in (False, True):
        ack = ack_send(message, duplicate=duplicate)
        assert ack == {
            "type": "ack",
            "action": "sendMessage",
            "roomId": "general",
            "clientMessageId": "c-1",
            "messageId": "m-1",
            "timestamp": 1_700_000_000_123,
            "duplicate": duplicate,
        }


def test_ack_send_without_client_message_id_has_it_null():
    """The ack of a message without clientMessageId carries null."""
    assert ack_send(sample(client_message_id=None), duplicate=False)["clientMessageId"] is None


def test_history_frame_lists_messages_in_the_given_order_without_type():
    """getMessages answers type=messages, each message without its own type."""
    older, newer = sample(message_id="m-1"), sample(message_id="m-2", timestamp=1_700_000_000_999)
    frame = history_frame("general", [older, newer], "cursor")
    assert frame["type"] == "messages"
    assert frame["roomId"] == "general"
    assert frame["nextBefore"] == "cursor"
    assert [m["messageId"] for m in frame["messages"]] == ["m-1", "m-2"]
    assert all(set(m) == MESSAGE_FIELDS for m in frame["messages"])


def test_history_frame_last_page_has_next_before_null():
    """nextBefore is null on the last page, and an empty history is an empty list."""
    frame = json.loads(encode(history_frame("r", [], None)))
    assert frame == {"type": "messages", "roomId": "r", "messages": [], "nextBefore": None}


def test_error_frame_carries_code_message_field_and_action():
    """An error frame names its code, message, field and the action that caused it."""
    frame = error_frame(ValidationFailed("roomId is bad", field="roomId"), "joinRoom")
    assert frame == {
        "type": "error",
        "code": "VALIDATION_ERROR",
        "message": "roomId is bad",
        "field": "roomId",
        "action": "joinRoom",
    }


def test_error_frame_omits_action_and_field_when_unknown():
    """Without an action or a field at fault, neither key is present."""
    frame = error_frame(NotInRoom())
    assert frame == {"type": "error", "code": "NOT_IN_ROOM", "message": NotInRoom.default_message}


# --- chats (contract v2) ------------------------------------------------------------------------


def chat_sample(**overrides):
    return sample(room_id=None, chat_id="g-1", seq=7, **overrides)


def test_a_chat_message_names_its_chat_and_seq_instead_of_a_room():
    """A chat's message: chatId and seq, and no roomId."""
    wire = chat_sample().to_wire()
    assert set(wire) == MESSAGE_FIELDS - {"roomId"} | {"chatId", "seq"}
    assert (wire["chatId"], wire["seq"]) == ("g-1", 7)
    assert message_frame(chat_sample())["type"] == "message"


def test_the_ack_of_a_chat_message_carries_its_chat_and_seq():
    """sendMessage to a chat is acked with chatId and seq."""
    ack = ack_send(chat_sample(), duplicate=True)
    assert ack["chatId"] == "g-1" and ack["seq"] == 7 and ack["duplicate"] is True
    assert "roomId" not in ack


def test_a_chats_history_page_names_the_chat():
    """history_frame with chat_id names the chat, not a room."""
    frame = history_frame(None, [chat_sample()], None, chat_id="g-1")
    assert frame["chatId"] == "g-1" and "roomId" not in frame
    assert frame["messages"][0]["seq"] == 7


def test_notices_of_chats_and_rooms():
    """chatAdded carries the chat; chatRemoved, roomJoined and roomLeft name theirs."""
    assert chat_added_frame({"chatId": "g-1"}) == {"type": "chatAdded", "chat": {"chatId": "g-1"}}
    assert chat_removed_frame("g-1") == {"type": "chatRemoved", "chatId": "g-1"}
    assert room_joined_frame("lab") == {"type": "roomJoined", "roomId": "lab"}
    assert room_left_frame("lab") == {"type": "roomLeft", "roomId": "lab"}
