"""The one DynamoDB update that adds a room to a bounded set of rooms (a connection's, or a
user's): the room is added unless the item is missing or already holds ``max_rooms`` other
rooms. Pure: it builds the update's arguments, the caller's client runs it."""

from __future__ import annotations

from typing import Any

__all__ = ["add_room_within"]


def add_room_within(room_id: str, max_rooms: int) -> dict[str, Any]:
    """``update_item`` arguments adding ``room_id`` to the item's ``rooms`` set, on condition
    that the item exists and the set has room for it (or lists it already)."""
    return {
        "UpdateExpression": "ADD rooms :rooms",
        "ConditionExpression": (
            "attribute_exists(pk) AND (attribute_not_exists(rooms) "
            "OR size(rooms) < :max OR contains(rooms, :room))"
        ),
        "ExpressionAttributeValues": {
            ":rooms": {"SS": [room_id]},
            ":room": {"S": room_id},
            ":max": {"N": str(max_rooms)},
        },
    }
