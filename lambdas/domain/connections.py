"""WebSocket connections and their room memberships, in the Connections table.

A connection is one item (``conn#{id}`` / ``meta``) holding its user and the set of rooms it
joined; each membership is one item in the room's partition (``room#{roomId}`` / ``conn#{id}``).
Fan-out therefore reads exactly one partition — the room's — with a strongly consistent Query,
never a scan, and a member who got the ``joinRoom`` ack is seen by the very next broadcast.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lambdas.contract.errors import NotInRoom, TooManyRooms
from lambdas.domain import keys
from lambdas.domain.tokens import Identity

__all__ = ["DEFAULT_ROOM", "ConnectionStore", "Member"]

DEFAULT_ROOM = "general"


@dataclass(frozen=True)
class Member:
    """A connection as a member of a room: who is behind it."""

    connection_id: str
    user_id: str
    username: str


class ConnectionStore:
    """The Connections table, over a boto3 DynamoDB client."""

    def __init__(self, dynamodb: Any, table: str, ttl_seconds: int, max_rooms: int) -> None:
        self._db = dynamodb
        self._table = table
        self._ttl_seconds = ttl_seconds
        self._max_rooms = max_rooms

    def _membership_item(self, room_id: str, connection_id: str, who: Identity, ttl: int) -> dict:
        return {
            **keys.membership_key(room_id, connection_id),
            "connectionId": {"S": connection_id},
            "roomId": {"S": room_id},
            "userId": {"S": who.user_id},
            "username": {"S": who.username},
            "ttl": {"N": str(ttl)},
        }

    def add(self, connection_id: str, who: Identity, now: float | None = None) -> None:
        """Store a new connection, joined to the default room."""
        now = time.time() if now is None else now
        ttl = int(now) + self._ttl_seconds
        meta = {
            **keys.connection_key(connection_id),
            "connectionId": {"S": connection_id},
            "userId": {"S": who.user_id},
            "username": {"S": who.username},
            "email": {"S": who.email},
            "connectedAt": {"N": str(int(now * 1000))},
            "rooms": {"SS": [DEFAULT_ROOM]},
            "ttl": {"N": str(ttl)},
        }
        membership = self._membership_item(DEFAULT_ROOM, connection_id, who, ttl)
        self._db.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": self._table, "Item": meta}},
                {"Put": {"TableName": self._table, "Item": membership}},
            ]
        )

    def _meta(self, connection_id: str) -> dict | None:
        return self._db.get_item(
            TableName=self._table, Key=keys.connection_key(connection_id), ConsistentRead=True
        ).get("Item")

    def join(self, connection_id: str, room_id: str) -> None:
        """Join ``room_id``; joining a room twice is not an error.

        Raises:
            TooManyRooms: the connection already joined the maximum number of rooms.
            LookupError: the connection is not stored (it was closed meanwhile).
        """
        meta = self._meta(connection_id)
        if meta is None:
            raise LookupError(connection_id)
        rooms = set(meta.get("rooms", {}).get("SS", []))
        if room_id in rooms:
            return
        if len(rooms) >= self._max_rooms:
            raise TooManyRooms(f"a connection may join at most {self._max_rooms} rooms")
        who = Identity(meta["userId"]["S"], meta["username"]["S"], meta["email"]["S"])
        ttl = int(meta["ttl"]["N"])
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": keys.connection_key(connection_id),
                            "UpdateExpression": "ADD rooms :room",
                            "ConditionExpression": (
                                "attribute_exists(pk) AND "
                                "(attribute_not_exists(rooms) OR size(rooms) < :max)"
                            ),
                            "ExpressionAttributeValues": {
                                ":room": {"SS": [room_id]},
                                ":max": {"N": str(self._max_rooms)},
                            },
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": self._membership_item(room_id, connection_id, who, ttl),
                        }
                    },
                ]
            )
        except self._db.exceptions.TransactionCanceledException:
            # A concurrent join took the last place (maybe for this very room), or the
            # connection went away meanwhile.
            meta = self._meta(connection_id)
            if meta is None:
                raise LookupError(connection_id) from None
            if room_id in meta.get("rooms", {}).get("SS", []):
                return
            raise TooManyRooms(f"a connection may join at most {self._max_rooms} rooms") from None

    def leave(self, connection_id: str, room_id: str) -> None:
        """Leave ``room_id``; leaving a room not joined is not an error.

        If the connection is being removed meanwhile, nothing is written: its removal deletes
        the memberships, and an update here would recreate a record that never expires.
        """
        try:
            self._leave(connection_id, room_id)
        except self._db.exceptions.TransactionCanceledException:
            if self._meta(connection_id) is not None:
                raise

    def _leave(self, connection_id: str, room_id: str) -> None:
        self._db.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": keys.connection_key(connection_id),
                        "UpdateExpression": "DELETE rooms :room",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": {":room": {"SS": [room_id]}},
                    }
                },
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": keys.membership_key(room_id, connection_id),
                    }
                },
            ]
        )

    def member(self, connection_id: str, room_id: str) -> Member:
        """The membership of ``connection_id`` in ``room_id``.

        Raises:
            NotInRoom: the connection has not joined the room.
        """
        item = self._db.get_item(
            TableName=self._table,
            Key=keys.membership_key(room_id, connection_id),
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            raise NotInRoom(f"join room {room_id!r} before sending to it")
        return Member(connection_id, item["userId"]["S"], item["username"]["S"])

    def members(self, room_id: str) -> Iterator[str]:
        """The ids of every connection joined to ``room_id``, page by page."""
        paginator = self._db.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :conn)",
            ExpressionAttributeValues={
                ":pk": {"S": keys.room_partition(room_id)},
                ":conn": {"S": "conn#"},
            },
            ProjectionExpression="connectionId",
            ConsistentRead=True,
        )
        for page in pages:
            for item in page.get("Items", []):
                yield item["connectionId"]["S"]

    def remove(self, connection_id: str, *also_rooms: str) -> None:
        """Delete the connection and all its memberships; removing twice is not an error.

        ``also_rooms`` are memberships to delete even if the connection's record no longer lists
        them (its record expired, or a join raced with the removal).
        """
        meta = self._meta(connection_id)
        rooms = set(meta.get("rooms", {}).get("SS", []) if meta else []) | set(also_rooms)
        requests = [{"DeleteRequest": {"Key": keys.connection_key(connection_id)}}]
        requests += [
            {"DeleteRequest": {"Key": keys.membership_key(room, connection_id)}}
            for room in sorted(rooms)
        ]
        for start in range(0, len(requests), 25):
            pending: dict = {self._table: requests[start : start + 25]}
            for attempt in range(5):
                unprocessed = self._db.batch_write_item(RequestItems=pending).get(
                    "UnprocessedItems", {}
                )
                if not unprocessed:
                    break
                pending = unprocessed
                time.sleep(0.05 * 2**attempt)
            else:
                raise RuntimeError(f"could not delete connection {connection_id} items")
