"""Contract v3 (profile ``receipts``): read receipts, typing and presence — the frames, the
requests and the markers. Pure code: dicts in, typed values and frames out.

- **Receipts** are per-user markers, not per-message flags: for each (chat, participant) the
  newest message delivered to and read by that user (``deliveredSeq``, ``readSeq``), which only
  ever move forward. A read message was delivered too: the delivered marker a client sees is
  never below the read one. Rooms keep such markers too, by message position rather than
  ``seq``, and never tell them live (``room_receipts.py``); ``parse_receipt`` reads both.
- **Typing** is a signal, never stored: ``start`` / ``stop``, fanned out to the chat's other
  participants, expiring on its own ``expiresInMs`` after it was sent.
- **Presence** is a user's being online (any open connection), with ``lastSeen`` when offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambdas.contract.errors import ValidationFailed
from lambdas.contract.room_receipts import RoomReceiptRequest, parse_room_receipt
from lambdas.contract.validation import chat_id_of

__all__ = [
    "DELIVERED",
    "KINDS",
    "READ",
    "START",
    "STATES",
    "STOP",
    "TYPING_EXPIRES_MS",
    "Marker",
    "Presence",
    "ReceiptRequest",
    "TypingRequest",
    "ack_receipt",
    "ack_typing",
    "parse_receipt",
    "parse_receipts_query",
    "parse_typing",
    "presence_frame",
    "receipt_counts",
    "receipt_frame",
    "typing_frame",
]

DELIVERED, READ = "delivered", "read"
KINDS = (DELIVERED, READ)
START, STOP = "start", "stop"
STATES = (START, STOP)
# A typing indicator shows for this long after its frame unless renewed (a new ``start``) or
# ended (``stop``, or a message of the typist).
TYPING_EXPIRES_MS = 5000
MAX_SEQ = 2**53


@dataclass(frozen=True)
class ReceiptRequest:
    chat_id: str
    kind: str  # DELIVERED or READ
    seq: int


@dataclass(frozen=True)
class TypingRequest:
    chat_id: str
    state: str  # START or STOP


@dataclass(frozen=True)
class Marker:
    """How far one participant got in a chat: the newest message delivered to them (at least as
    far as read) and the newest they read."""

    user_id: str
    username: str
    delivered_seq: int
    read_seq: int

    def to_wire(self) -> dict[str, Any]:
        return {
            "userId": self.user_id,
            "username": self.username,
            "deliveredSeq": max(self.delivered_seq, self.read_seq),
            "readSeq": self.read_seq,
        }


@dataclass(frozen=True)
class Presence:
    """Whether a user has an open connection; ``last_seen`` (ms) is when their last one closed."""

    user_id: str
    online: bool
    last_seen: int | None

    def to_wire(self) -> dict[str, Any]:
        return {"online": self.online, "lastSeen": None if self.online else self.last_seen}


def _seq(value: Any, field: str = "seq") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_SEQ:
        raise ValidationFailed(f"{field} must be a non-negative integer", field=field)
    return value


def parse_receipt(frame: dict[str, Any]) -> ReceiptRequest | RoomReceiptRequest:
    """Validate a ``receipt`` frame: of a chat ``{"chatId", "kind": "delivered"|"read",
    "seq"}``, or of a room ``{"roomId", "kind", "messageId", "timestamp"}`` (one of the two)."""
    if frame.get("roomId") is not None:
        if frame.get("chatId") is not None:
            raise ValidationFailed("give chatId or roomId, not both", field="chatId")
        return parse_room_receipt(frame)
    if frame.get("chatId") is None:
        raise ValidationFailed("chatId (or, for a room, roomId) is required", field="chatId")
    chat_id = chat_id_of(frame.get("chatId"))
    kind = frame.get("kind")
    if kind not in KINDS:
        raise ValidationFailed('kind must be "delivered" or "read"', field="kind")
    return ReceiptRequest(chat_id, kind, _seq(frame.get("seq")))


def parse_typing(frame: dict[str, Any]) -> TypingRequest:
    """Validate a ``typing`` frame: ``{"chatId", "state": "start"|"stop"}``."""
    chat_id = chat_id_of(frame.get("chatId"))
    state = frame.get("state")
    if state not in STATES:
        raise ValidationFailed('state must be "start" or "stop"', field="state")
    return TypingRequest(chat_id, state)


def parse_receipts_query(query: dict[str, str]) -> int | None:
    """The optional ``seq`` of ``GET /chats/{chatId}/receipts``: a message to count for."""
    raw = query.get("seq")
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 16:
        raise ValidationFailed("seq must be a non-negative integer", field="seq")
    return _seq(int(raw))


def receipt_counts(markers: list[Marker], seq: int, caller: str) -> dict[str, int]:
    """How many participants other than ``caller`` got, and read, message ``seq``: "read by K
    of N" in a group."""
    others = [m for m in markers if m.user_id != caller]
    return {
        "seq": seq,
        "delivered": sum(1 for m in others if max(m.delivered_seq, m.read_seq) >= seq),
        "read": sum(1 for m in others if m.read_seq >= seq),
        "of": len(others),
    }


def ack_receipt(request: ReceiptRequest, marker: Marker, moved: bool) -> dict[str, Any]:
    """The answer to ``receipt``: the caller's markers now, and whether this one moved them."""
    wire = marker.to_wire()
    return {
        "type": "ack",
        "action": "receipt",
        "chatId": request.chat_id,
        "kind": request.kind,
        "seq": request.seq,
        "deliveredSeq": wire["deliveredSeq"],
        "readSeq": wire["readSeq"],
        "moved": moved,
    }


def ack_typing(request: TypingRequest) -> dict[str, Any]:
    """The answer to ``typing``: the signal went to the other participants."""
    return {
        "type": "ack",
        "action": "typing",
        "chatId": request.chat_id,
        "state": request.state,
        "expiresInMs": TYPING_EXPIRES_MS,
    }


def receipt_frame(chat_id: str, marker: Marker) -> dict[str, Any]:
    """Tells the other participants how far ``marker``'s user got in the chat."""
    wire = marker.to_wire()
    return {
        "type": "receipt",
        "chatId": chat_id,
        "userId": marker.user_id,
        "deliveredSeq": wire["deliveredSeq"],
        "readSeq": wire["readSeq"],
    }


def typing_frame(chat_id: str, user_id: str, username: str, state: str) -> dict[str, Any]:
    """Tells the other participants that a user started (or stopped) typing in the chat."""
    return {
        "type": "typing",
        "chatId": chat_id,
        "userId": user_id,
        "username": username,
        "state": state,
        "expiresInMs": TYPING_EXPIRES_MS,
    }


def presence_frame(presence: Presence, username: str | None = None) -> dict[str, Any]:
    """Tells a user's chat partners that the user came online or went offline."""
    frame: dict[str, Any] = {"type": "presence", "userId": presence.user_id}
    if username is not None:
        frame["username"] = username
    return {**frame, **presence.to_wire()}
