"""Frames the server sends on a WebSocket connection, and the chat message they carry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lambdas.contract.errors import ChatError
from lambdas.contract.media import Attachment

# API Gateway delivers a WebSocket message of at most 128 KB (a route's reply included). A
# history page stops below it — whether a KB is 1,000 or 1,024 bytes — and says so through
# ``nextBefore``: 50 messages of 4,000 characters encode to about 211 KB.
HISTORY_FRAME_MAX_BYTES = 120_000

__all__ = [
    "HISTORY_FRAME_MAX_BYTES",
    "Message",
    "ack_attachment_url",
    "ack_room",
    "ack_send",
    "chat_added_frame",
    "chat_removed_frame",
    "encode",
    "error_frame",
    "history_frame",
    "message_frame",
    "room_joined_frame",
    "room_left_frame",
]


@dataclass(frozen=True)
class Message:
    """One stored message, as every stage returns it: of a room (``room_id``) or of a chat
    (``chat_id``, with the chat's sequence number ``seq``), never both."""

    message_id: str
    room_id: str | None
    user_id: str
    username: str
    message: str
    timestamp: int
    client_message_id: str | None = None
    chat_id: str | None = None
    seq: int | None = None
    attachments: tuple[Attachment, ...] = ()

    @property
    def target(self) -> tuple[str, str]:
        """Where the message was sent: ``("roomId", id)`` or ``("chatId", id)``."""
        if self.chat_id is not None:
            return "chatId", self.chat_id
        assert self.room_id is not None, "a message belongs to a room or a chat"
        return "roomId", self.room_id

    def to_wire(self) -> dict[str, Any]:
        """The message's fields; ``attachments`` only when it has some (profile ``media``), so
        a text message is the same on every stage."""
        field, target = self.target
        wire: dict[str, Any] = {
            "messageId": self.message_id,
            field: target,
            "userId": self.user_id,
            "username": self.username,
            "message": self.message,
            "timestamp": self.timestamp,
            "clientMessageId": self.client_message_id,
        }
        if self.chat_id is not None:
            wire["seq"] = self.seq
        if self.attachments:
            wire["attachments"] = [a.to_wire() for a in self.attachments]
        return wire


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
    field, target = message.target
    ack: dict[str, Any] = {
        "type": "ack",
        "action": "sendMessage",
        field: target,
        "clientMessageId": message.client_message_id,
        "messageId": message.message_id,
        "timestamp": message.timestamp,
        "duplicate": duplicate,
    }
    if message.chat_id is not None:
        ack["seq"] = message.seq
    return ack


def ack_attachment_url(
    target: tuple[str, str], key: str, url: str, expires_at: int
) -> dict[str, Any]:
    """The answer to ``getAttachmentUrl`` about a file of a room or a chat (``target``:
    ``("roomId", id)`` or ``("chatId", id)``): a short-lived URL of the file, valid until
    ``expires_at`` (epoch milliseconds)."""
    field, target_id = target
    return {
        "type": "ack",
        "action": "getAttachmentUrl",
        field: target_id,
        "key": key,
        "url": url,
        "expiresAt": expires_at,
    }


def history_frame(
    room_id: str | None,
    messages: list[Message],
    next_before: str | None,
    *,
    chat_id: str | None = None,
) -> dict[str, Any]:
    """The answer to ``getMessages`` (of a room, or of a chat when ``chat_id`` is given): oldest
    first, with the cursor of the next older page."""
    return {
        "type": "messages",
        **({"chatId": chat_id} if chat_id is not None else {"roomId": room_id}),
        "messages": [m.to_wire() for m in messages],
        "nextBefore": next_before,
    }


def chat_added_frame(chat: dict[str, Any]) -> dict[str, Any]:
    """Tells every connection of a user that they became a participant of ``chat`` (a summary)."""
    return {"type": "chatAdded", "chat": chat}


def chat_removed_frame(chat_id: str) -> dict[str, Any]:
    """Tells every connection of a user that they are no longer a participant of the chat."""
    return {"type": "chatRemoved", "chatId": chat_id}


def room_joined_frame(room_id: str) -> dict[str, Any]:
    """Tells a user's other connections that the user joined a room (they joined it too)."""
    return {"type": "roomJoined", "roomId": room_id}


def room_left_frame(room_id: str) -> dict[str, Any]:
    """Tells a user's other connections that the user left a room (they left it too)."""
    return {"type": "roomLeft", "roomId": room_id}


def error_frame(error: ChatError, action: str | None = None) -> dict[str, Any]:
    """An ``error`` frame; the connection it is sent on stays open."""
    frame: dict[str, Any] = {"type": "error", **error.to_wire()}
    if action is not None:
        frame["action"] = action
    return frame
