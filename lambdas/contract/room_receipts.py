"""Contract v3 (profile ``receipts``, RECEIPTS.md §9, Rooms): room receipt markers, pure code.

A room's messages have no sequence number: a message's place in the room is its **position**,
``(timestamp, messageId)`` — the order of the room's history. For each (room, member) the stage
keeps two markers, the newest position delivered to and read by that member, which only ever
move forward; a read message was delivered too (the delivered marker shown is never below the
read one).

Rooms have no live receipt frames — their audience is unbounded — so the markers are asked for:
the ``receipt`` ack tells the caller theirs, and ``GET /rooms/{roomId}/receipts`` counts how many
of the other members got and read a message ("read by K of N").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lambdas.contract.errors import ValidationFailed
from lambdas.contract.validation import identifier_of, room_id_of

__all__ = [
    "MAX_TIMESTAMP",
    "Position",
    "RoomMarker",
    "RoomReceiptRequest",
    "ack_room_receipt",
    "parse_room_receipt",
    "parse_room_receipts_query",
    "room_receipt_counts",
    "room_receipts_body",
]

KINDS = ("delivered", "read")
MAX_TIMESTAMP = 10**13  # milliseconds: 13 digits, as the history's order pads them


@dataclass(frozen=True, order=True)
class Position:
    """A message's place in its room's history: ordered by time, then by id."""

    timestamp: int
    message_id: str

    def to_wire(self) -> dict[str, Any]:
        return {"messageId": self.message_id, "timestamp": self.timestamp}


@dataclass(frozen=True)
class RoomReceiptRequest:
    room_id: str
    kind: str  # "delivered" or "read"
    position: Position


@dataclass(frozen=True)
class RoomMarker:
    """How far one member got in a room: the newest message delivered to them and the newest
    they read (None: none yet)."""

    user_id: str
    delivered: Position | None
    read: Position | None

    @property
    def shown_delivered(self) -> Position | None:
        """The delivered marker as told: a read message was delivered too."""
        known = [p for p in (self.delivered, self.read) if p is not None]
        return max(known) if known else None

    def reached(self, kind: str, position: Position) -> bool:
        """Whether the member got (``delivered``) or read (``read``) the message at
        ``position``: their marker is at or past it."""
        marker = self.shown_delivered if kind == "delivered" else self.read
        return marker is not None and marker >= position

    def to_wire(self) -> dict[str, Any]:
        delivered, read = self.shown_delivered, self.read
        return {
            "delivered": None if delivered is None else delivered.to_wire(),
            "read": None if read is None else read.to_wire(),
        }


def _timestamp(value: Any) -> int:
    if value is None:
        raise ValidationFailed("timestamp is required", field="timestamp")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_TIMESTAMP:
        raise ValidationFailed(
            "timestamp must be the message's timestamp (milliseconds, a non-negative integer)",
            field="timestamp",
        )
    return value


def parse_room_receipt(frame: dict[str, Any]) -> RoomReceiptRequest:
    """Validate a room's ``receipt`` frame:
    ``{"roomId", "kind": "delivered"|"read", "messageId", "timestamp"}``."""
    room_id = room_id_of(frame.get("roomId"))
    kind = frame.get("kind")
    if kind not in KINDS:
        raise ValidationFailed('kind must be "delivered" or "read"', field="kind")
    position = Position(
        _timestamp(frame.get("timestamp")), identifier_of(frame.get("messageId"), "messageId")
    )
    return RoomReceiptRequest(room_id, kind, position)


def parse_room_receipts_query(query: dict[str, str]) -> Position | None:
    """The optional message of ``GET /rooms/{roomId}/receipts?messageId=&timestamp=`` to count
    for: both or neither."""
    raw_id, raw_time = query.get("messageId"), query.get("timestamp")
    if raw_id is None and raw_time is None:
        return None
    if raw_time is None:
        raise ValidationFailed("timestamp is required with messageId", field="timestamp")
    if not raw_time.isascii() or not raw_time.isdigit() or len(raw_time) > 13:
        raise ValidationFailed(
            "timestamp must be the message's timestamp (milliseconds)", field="timestamp"
        )
    return Position(_timestamp(int(raw_time)), identifier_of(raw_id, "messageId"))


def room_receipt_counts(
    markers: list[RoomMarker], position: Position, caller: str, members: int
) -> dict[str, Any]:
    """How many members other than ``caller`` got, and read, the message at ``position``, of
    how many: ``members`` is the room's directory count (the caller among them). A count never
    exceeds ``of``, which a directory count one off (rooms.py) could otherwise show."""
    others = [m for m in markers if m.user_id != caller]
    of = max(members - 1, 0)
    return {
        **position.to_wire(),
        "delivered": min(of, sum(1 for m in others if m.reached("delivered", position))),
        "read": min(of, sum(1 for m in others if m.reached("read", position))),
        "of": of,
    }


def ack_room_receipt(request: RoomReceiptRequest, marker: RoomMarker, moved: bool) -> dict:
    """The answer to a room's ``receipt``: the caller's markers now, and whether this one moved
    them."""
    return {
        "type": "ack",
        "action": "receipt",
        "roomId": request.room_id,
        "kind": request.kind,
        **request.position.to_wire(),
        **marker.to_wire(),
        "moved": moved,
    }


def room_receipts_body(
    room_id: str, members: int, mine: RoomMarker, counts: dict[str, Any] | None
) -> dict[str, Any]:
    """The answer to ``GET /rooms/{roomId}/receipts``: never live (no frames in rooms)."""
    return {
        "roomId": room_id,
        "members": members,
        "live": False,
        "mine": mine.to_wire(),
        "counts": counts,
    }
