"""Receipts in rooms (RECEIPTS.md §9, Rooms): one marker item per (room, member).

The Chats table holds ``roomreceipts#{roomId}`` / ``user#{userId}`` with ``deliveredPos`` and
``readPos``: the newest message position (its history sort key, ``{timestamp:013d}#{id}``,
which sorts as the history does) delivered to and read by the member. A marker moves with one
conditional update — ``SET m = :pos`` if it is behind ``:pos`` — however many messages it
covers, never back. A read leaves ``deliveredPos`` alone: the delivered marker shown is the
later of the two, so a read is one write and delivered is never below read.

Nothing else writes these items: the broadcaster moves no delivered markers in rooms (a room of
1,000 members would cost 1,000 writes per batch); the member's app sends ``delivered`` when a
room message arrives. Counts are asked for: one Query of the room's marker partition.
"""

from __future__ import annotations

from typing import Any

from lambdas.contract.errors import NotInRoom, ValidationFailed
from lambdas.contract.room_receipts import Position, RoomMarker, RoomReceiptRequest
from lambdas.domain import keys
from lambdas.domain.messages import MessageStore
from lambdas.domain.rooms import UserRooms

__all__ = [
    "RoomReceiptStore",
    "position_key",
    "room_marker_from_item",
    "room_receipt",
    "room_receipts_summary",
]

ATTRIBUTE = {"delivered": "deliveredPos", "read": "readPos"}
MARKER_KIND = "roommarker"
_BEHIND = "(attribute_not_exists({a}) OR {a} < :pos)"
# A marker moves only forward; the delivered one also not to or below the read one (as shown,
# delivered already covers it: moving it would change nothing a client sees).
CONDITION = {
    "read": _BEHIND.format(a="readPos"),
    "delivered": f"{_BEHIND.format(a='deliveredPos')} AND {_BEHIND.format(a='readPos')}",
}


def position_key(position: Position) -> str:
    """A position as stored: the message's sort key in its room's history."""
    return keys.message_sort_key(position.timestamp, position.message_id)


def _position(item: dict[str, Any], attribute: str) -> Position | None:
    stored = item.get(attribute, {}).get("S")
    if stored is None:
        return None
    timestamp, message_id = stored.split("#", 1)
    return Position(int(timestamp), message_id)


def room_marker_from_item(user_id: str, item: dict[str, Any] | None) -> RoomMarker:
    """The markers a marker item (DynamoDB JSON) holds; none for a member without one."""
    item = item or {}
    return RoomMarker(
        user_id=item.get("userId", {}).get("S", user_id),
        delivered=_position(item, "deliveredPos"),
        read=_position(item, "readPos"),
    )


class RoomReceiptStore:
    """Rooms' receipt markers in the Chats table, over a boto3 DynamoDB client."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self._db = dynamodb
        self._table = table

    def move(
        self, room_id: str, user_id: str, kind: str, position: Position
    ) -> tuple[RoomMarker, bool]:
        """Move the member's ``kind`` marker forward to ``position`` (trusted: checked by the
        caller) with one conditional write; returns the markers now and whether they moved."""
        try:
            item = self._db.update_item(
                TableName=self._table,
                Key=keys.room_marker_key(room_id, user_id),
                UpdateExpression=f"SET {ATTRIBUTE[kind]} = :pos, kind = :kind, "
                "roomId = :room, userId = :user",
                ConditionExpression=CONDITION[kind],
                ExpressionAttributeValues={
                    ":pos": {"S": position_key(position)},
                    ":kind": {"S": MARKER_KIND},
                    ":room": {"S": room_id},
                    ":user": {"S": user_id},
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )["Attributes"]
        except self._db.exceptions.ConditionalCheckFailedException as refused:
            return room_marker_from_item(user_id, refused.response.get("Item")), False
        return room_marker_from_item(user_id, item), True

    def marker(self, room_id: str, user_id: str) -> RoomMarker:
        """The user's markers in the room (none yet: both None)."""
        item = self._db.get_item(
            TableName=self._table, Key=keys.room_marker_key(room_id, user_id), ConsistentRead=True
        ).get("Item")
        return room_marker_from_item(user_id, item)

    def reaching(self, room_id: str, position: Position) -> list[RoomMarker]:
        """The markers of the room at or past ``position`` (delivered or read): one paged Query
        of the room's marker partition."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "FilterExpression": "deliveredPos >= :pos OR readPos >= :pos",
            "ProjectionExpression": "userId, deliveredPos, readPos",
            "ExpressionAttributeValues": {
                ":pk": {"S": keys.room_markers_partition(room_id)},
                ":pos": {"S": position_key(position)},
            },
            "ConsistentRead": True,
        }
        found: list[RoomMarker] = []
        while True:
            page = self._db.query(**query)
            found += [room_marker_from_item("", item) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return found
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _check_member(their_rooms: set[str], room_id: str) -> None:
    if room_id not in their_rooms:
        raise NotInRoom(f"not a member of room {room_id!r}: join it first")


def _check_message(found: bool, room_id: str, position: Position) -> None:
    if not found:
        raise ValidationFailed(
            f"no message {position.message_id!r} at timestamp {position.timestamp} "
            f"in room {room_id!r}",
            field="messageId",
        )


def room_receipt(
    receipts: RoomReceiptStore,
    rooms: UserRooms,
    messages: MessageStore,
    user_id: str,
    request: RoomReceiptRequest,
) -> tuple[RoomMarker, bool]:
    """A member's receipt: move their marker to a message of the room (one write, told to
    nobody); returns the markers now and whether they moved.

    Raises:
        NotInRoom: the room is not one of the user's rooms (checked first: an outsider learns
            nothing of the room's history).
        ValidationFailed: no such message in the room (``messageId``).
    """
    room_id, position = request.room_id, request.position
    _check_member(rooms.rooms_of(user_id), room_id)
    found = messages.in_room(room_id, position.timestamp, position.message_id)
    _check_message(found, room_id, position)
    return receipts.move(room_id, user_id, request.kind, position)


def room_receipts_summary(
    receipts: RoomReceiptStore,
    rooms: UserRooms,
    messages: MessageStore,
    room_id: str,
    user_id: str,
    position: Position | None,
) -> tuple[RoomMarker, int, list[RoomMarker] | None]:
    """For member ``user_id``: their markers, the room's directory member count and, with
    ``position``, the markers at or past it.

    Raises:
        NotInRoom: the room is not one of the user's rooms.
        ValidationFailed: ``position`` names no message of the room (``messageId``).
    """
    _check_member(rooms.rooms_of(user_id), room_id)
    if position is not None:
        found = messages.in_room(room_id, position.timestamp, position.message_id)
        _check_message(found, room_id, position)
    members = rooms.counts([room_id])[room_id]
    reached = None if position is None else receipts.reaching(room_id, position)
    return receipts.marker(room_id, user_id), members, reached
