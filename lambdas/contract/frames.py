"""Frames the server sends on a WebSocket connection, and the chat message they carry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lambdas.contract.errors import ChatError

# API Gateway delivers a WebSocket message of at most 128 KB (a route's reply included). A
# history page stops below it — whether a KB is 1,000 or 1,024 bytes — and says so through
# ``nextBefore``: 50 messages of 4,000 characters encode to about 211 KB.
HISTORY_FRAME_MAX_BYTES = 120_000

__all__ = [
    "HISTORY_FRAME_MAX_BYTES",
    "Message",
    "ack_room",
    "ack_send",
    "encode",
    "error_frame",
    "history_frame",
    "message_frame",
]


@dataclass(frozen=True)
class Message:
    """One stored chat message, as every stage returns it."""

    message_id: str
    room_id: str
    user_id: str
    username: str
    message: str
    timestamp: int
    client_message_id: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "messageId": self.message_id,
            "roomId": self.room_id,
            "userId": self.user_id,
            "username": self.username,
            "message": self.message,
            "timestamp": self.timestamp,
            "clientMessageId": self.client_message_id,
        }


def encode(frame: dict[str, Any]) -> str:
    """Serialise a frame compactly; non-ASCII text is sent as UTF-8, not escaped."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def message_frame(message: Message) -> dict[str, Any]:
    """The broadcast every member of the room receives."""
    return {"type": "message", **message.to_wire()}


def ack_room(action: str, room_id: str) -> dict[str, Any]:
    """The answer to ``joinRoom`` / ``leaveRoom``."""
    return {"type": "ack", "action": action, "roomId": room_id}


def ack_send(message: Message, *, duplicate: bool) -> dict[str, Any]:
    """The answer to ``sendMessage``; a repeat of a ``clientMessageId`` names the original."""
    return {
        "type": "ack",
        "action": "sendMessage",
        "roomId": message.room_id,
        "clientMessageId": message.client_message_id,
        "messageId": message.message_id,
        "timestamp": message.timestamp,
        "duplicate": duplicate,
    }


def history_frame(room_id: str, messages: list[Message], next_before: str | None) -> dict[str, Any]:
    """The answer to ``getMessages``: oldest first, with the cursor of the next older page."""
    return {
        "type": "messages",
        "roomId": room_id,
        "messages": [m.to_wire() for m in messages],
        "nextBefore": next_before,
    }


def error_frame(error: ChatError, action: str | None = None) -> dict[str, Any]:
    """An ``error`` frame; the connection it is sent on stays open."""
    frame: dict[str, Any] = {"type": "error", **error.to_wire()}
    if action is not None:
        frame["action"] = action
    return frame
