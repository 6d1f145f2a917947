"""Rooms belong to users (contract v2): each user's rooms, and the directory of public rooms.

Both live in the Chats table:

- ``user#{userId}`` / ``rooms``: the string set of the user's rooms, changed only by atomic
  ``ADD``/``DELETE`` updates. A user without the item (every new user) has ``general`` only;
  the first join or leave writes it.
- ``roomdir`` / ``{lower-case id}#{id}``: a room's directory entry and its member count (users
  whose rooms include it). One partition, sorted by name, so listing and prefix search are one
  Query; the entry goes when its count reaches zero.

A count changes in a second update after the user's set changed, without a transaction: joins of
a popular room would otherwise conflict with each other. A crash between the two leaves that
count one off — a directory figure, never a membership.

Leaving a room also deletes the user's receipt markers there (``room_receipts.py``), so the
room's "read by K of N" counts its members only; joining deletes them too, so a member who comes
back starts afresh even when a receipt raced their leaving.
"""

from __future__ import annotations

import contextlib
from typing import Any

from lambdas.contract.errors import TooManyRooms
from lambdas.domain import keys
from lambdas.domain.batch import batch_get
from lambdas.domain.connections import DEFAULT_ROOM
from lambdas.domain.paging import query_one_more
from lambdas.domain.room_sets import add_room_within

__all__ = ["DirectoryEntry", "UserRooms"]

DirectoryEntry = tuple[str, int]  # (roomId, members)


class UserRooms:
    """Users' rooms and the room directory, over a boto3 DynamoDB client."""

    def __init__(self, dynamodb: Any, table: str, max_rooms: int) -> None:
        self._db = dynamodb
        self._table = table
        self._max_rooms = max_rooms

    def rooms_of(self, user_id: str) -> set[str]:
        """The user's rooms (strongly consistent)."""
        item = self._db.get_item(
            TableName=self._table, Key=keys.user_rooms_key(user_id), ConsistentRead=True
        ).get("Item")
        if item is None:
            return {DEFAULT_ROOM}
        return set(item.get("rooms", {}).get("SS", []))

    def welcome(self, user_id: str) -> None:
        """Count a new user among the members of ``general``, which their rooms start with."""
        self._count(DEFAULT_ROOM, +1)

    def _materialize(self, user_id: str) -> None:
        """Write the rooms item of a user who has none yet: ``general`` only."""
        with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
            self._db.put_item(  # unless written meanwhile
                TableName=self._table,
                Item={
                    **keys.user_rooms_key(user_id),
                    "kind": {"S": "rooms"},
                    "rooms": {"SS": [DEFAULT_ROOM]},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )

    def join(self, user_id: str, room_id: str) -> bool:
        """Add ``room_id`` to the user's rooms; returns whether it was new to them.

        Raises:
            TooManyRooms: the user is in the maximum number of other rooms already.
        """
        for _ in range(2):
            try:
                old = self._db.update_item(
                    TableName=self._table,
                    Key=keys.user_rooms_key(user_id),
                    **add_room_within(room_id, self._max_rooms),
                    ReturnValues="ALL_OLD",  # UPDATED_OLD may omit a set left unchanged
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                ).get("Attributes", {})
            except self._db.exceptions.ConditionalCheckFailedException as refused:
                if refused.response.get("Item"):
                    raise TooManyRooms(
                        f"a user may be in at most {self._max_rooms} rooms"
                    ) from None
                self._materialize(user_id)
                continue
            new = room_id not in old.get("rooms", {}).get("SS", [])
            if new:
                self._count(room_id, +1)
                self._forget_markers(room_id, user_id)  # a receipt that raced the last leave
            return new
        raise AssertionError("the rooms item was written, yet the update did not find it")

    def leave(self, user_id: str, room_id: str) -> bool:
        """Remove ``room_id`` from the user's rooms; returns whether they were in it."""
        for _ in range(2):
            try:
                old = self._db.update_item(
                    TableName=self._table,
                    Key=keys.user_rooms_key(user_id),
                    UpdateExpression="DELETE rooms :rooms",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues={":rooms": {"SS": [room_id]}},
                    ReturnValues="ALL_OLD",  # UPDATED_OLD may omit a set left unchanged
                ).get("Attributes", {})
            except self._db.exceptions.ConditionalCheckFailedException:
                self._materialize(user_id)
                continue
            was_in = room_id in old.get("rooms", {}).get("SS", [])
            if was_in:
                self._count(room_id, -1)
                self._forget_markers(room_id, user_id)
            return was_in
        raise AssertionError("the rooms item was written, yet the update did not find it")

    def _forget_markers(self, room_id: str, user_id: str) -> None:
        """Delete the user's receipt markers in the room: on leaving, so the room's counts are
        of members only; on joining, so a member starts afresh even if a receipt checked before
        their last leave was written after it."""
        self._db.delete_item(TableName=self._table, Key=keys.room_marker_key(room_id, user_id))

    def _count(self, room_id: str, change: int) -> None:
        """Change a room's member count; its entry is written with the first member and
        deleted when the last one leaves (unless someone joined meanwhile)."""
        key = keys.directory_entry_key(room_id)
        members = self._db.update_item(
            TableName=self._table,
            Key=key,
            UpdateExpression="SET roomId = :room, kind = :kind ADD members :change",
            ExpressionAttributeValues={
                ":room": {"S": room_id},
                ":kind": {"S": "roomdir"},
                ":change": {"N": str(change)},
            },
            ReturnValues="UPDATED_NEW",
        )["Attributes"]["members"]["N"]
        if int(members) <= 0:
            with contextlib.suppress(self._db.exceptions.ConditionalCheckFailedException):
                self._db.delete_item(  # unless someone joined meanwhile
                    TableName=self._table,
                    Key=key,
                    ConditionExpression="members <= :zero",
                    ExpressionAttributeValues={":zero": {"N": "0"}},
                )

    def directory(
        self, prefix: str, limit: int, after: str | None
    ) -> tuple[list[DirectoryEntry], str | None]:
        """Rooms whose id starts with ``prefix`` (any letter case), by id, after the position
        ``after``: up to ``limit`` and the position of the next page (or None)."""
        values: dict[str, Any] = {":pk": {"S": keys.DIRECTORY_PARTITION}}
        condition = "pk = :pk"
        if prefix:
            condition += " AND begins_with(sk, :prefix)"
            values[":prefix"] = {"S": prefix.lower()}
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        if after is not None:
            if not after.startswith(prefix.lower()) or "#" not in after:
                return [], None  # a cursor of another search: nothing follows it here
            query["ExclusiveStartKey"] = {"pk": values[":pk"], "sk": {"S": after}}
        items = query_one_more(self._db, query, limit)
        shown = items[:limit]
        entries = [(i["roomId"]["S"], int(i["members"]["N"])) for i in shown]
        return entries, shown[-1]["sk"]["S"] if len(items) > limit else None

    def counts(self, room_ids: list[str]) -> dict[str, int]:
        """The member counts of ``room_ids`` (0 for a room without members)."""
        counts = dict.fromkeys(room_ids, 0)
        entries = [keys.directory_entry_key(r) for r in room_ids]
        for item in batch_get(self._db, self._table, entries, "roomId, members"):
            counts[item["roomId"]["S"]] = int(item["members"]["N"])
        return counts
