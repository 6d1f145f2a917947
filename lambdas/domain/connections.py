"""WebSocket connections and their room memberships, in the Connections table.

A connection is one item (``conn#{id}`` / ``meta``) holding its user and the set of rooms it
joined; each membership is one item in the room's partition (``room#{roomId}`` / ``conn#{id}``).
Fan-out therefore reads exactly one partition — the room's — with a strongly consistent Query,
never a scan, and a member who got the ``joinRoom`` ack is seen by the very next broadcast.

Each user's open connections are also one item (``user#{userId}`` / ``conns``, a string set
changed only by atomic ADD/DELETE): a chat's fan-out reads its participants' sets with one
BatchGetItem per 100 participants, never a scan.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from lambdas.contract.errors import NotInRoom, TooManyRooms
from lambdas.contract.receipts import Presence
from lambdas.domain import keys
from lambdas.domain.batch import batch_get
from lambdas.domain.identity import Identity
from lambdas.domain.room_sets import add_room_within

__all__ = ["DEFAULT_ROOM", "HANDSHAKE_GRACE_SECONDS", "ConnectionStore", "Member"]

DEFAULT_ROOM = "general"
CONNECTION_PREFIX = "conn#"  # a membership's sort key: conn#{connectionId}
BATCH_ATTEMPTS = 5  # batch_write_item calls per batch of 25 before giving up
# $connect stores the connection before API Gateway completes the handshake, and until then
# @connections answers 410 for it. A 410 for a connection stored less than this long ago may
# be that race, not a gone client: API Gateway waits at most 29 s for $connect.
HANDSHAKE_GRACE_SECONDS = 30


@dataclass(frozen=True)
class Member:
    """A connection as a member of a room: who is behind it."""

    connection_id: str
    user_id: str
    username: str


OnOffline = Callable[[Presence], None]


def _tell(on_offline: OnOffline | None, presences: list[Presence]) -> None:
    """Tell ``on_offline`` of users whose last connection was found gone (a failure there is
    the announcer's to log: it never undoes the removal)."""
    if on_offline is not None:
        for presence in presences:
            on_offline(presence)


class ConnectionStore:
    """The Connections table, over a boto3 DynamoDB client."""

    def __init__(self, dynamodb: Any, table: str, ttl_seconds: int, max_rooms: int) -> None:
        self._db = dynamodb
        self._table = table
        self._ttl_seconds = ttl_seconds
        self._max_rooms = max_rooms

    def _membership_item(
        self, room_id: str, connection_id: str, who: Identity, ttl: int, connected_at: str
    ) -> dict:
        # Kept small: every broadcast reads every member's item (the room and connection ids
        # are in its key), and a Query consumes read capacity by the size of what it reads.
        # connectedAt (ms) tells a 410 during the handshake from a gone connection.
        return {
            **keys.membership_key(room_id, connection_id),
            "userId": {"S": who.user_id},
            "username": {"S": who.username},
            "connectedAt": {"N": connected_at},
            "ttl": {"N": str(ttl)},
        }

    def add(
        self,
        connection_id: str,
        who: Identity,
        now: float | None = None,
        rooms: Iterable[str] = (DEFAULT_ROOM,),
    ) -> None:
        """Store a new connection, joined to ``rooms`` (the user's rooms; v1: ``general``).

        Batches of puts write the record and one membership per room: no transaction is needed,
        as every put is idempotent for a fresh connection id. If a batch fails part-way,
        ``$connect`` fails and the client is not connected; what was written expires with its
        TTL (a membership also goes at the broadcaster's first 410).
        """
        now = time.time() if now is None else now
        ttl = int(now) + self._ttl_seconds
        rooms = sorted(set(rooms))
        meta = {
            **keys.connection_key(connection_id),
            "connectionId": {"S": connection_id},
            "userId": {"S": who.user_id},
            "username": {"S": who.username},
            "email": {"S": who.email},
            "connectedAt": {"N": str(int(now * 1000))},
            "ttl": {"N": str(ttl)},
        }
        if rooms:  # DynamoDB has no empty sets: a user in no room has no attribute
            meta["rooms"] = {"SS": rooms}
        connected_at = meta["connectedAt"]["N"]
        requests = [{"PutRequest": {"Item": meta}}] + [
            {
                "PutRequest": {
                    "Item": self._membership_item(room, connection_id, who, ttl, connected_at)
                }
            }
            for room in rooms
        ]
        self._write_batch(requests, f"store connection {connection_id}")

    def register(self, user_id: str, connection_id: str) -> bool:
        """Add ``connection_id`` to its user's set of open connections; returns whether it is
        the user's only one (the user came online). The ADD is atomic: of connections opening
        at once, exactly one finds the set empty."""
        old = self._db.update_item(
            TableName=self._table,
            Key=keys.presence_key(user_id),
            UpdateExpression="ADD conns :id",
            ExpressionAttributeValues={":id": {"SS": [connection_id]}},
            ReturnValues="UPDATED_OLD",
        ).get("Attributes", {})
        return not old.get("conns", {}).get("SS")

    def _unregister(self, user_id: str, connection_id: str, now: float | None = None) -> bool:
        """Take ``connection_id`` out of its user's set (an update never creates the item, and
        one not in the set changes nothing); returns whether it was the user's last (the user
        went offline, last seen now)."""
        now = time.time() if now is None else now
        try:
            new = self._db.update_item(
                TableName=self._table,
                Key=keys.presence_key(user_id),
                UpdateExpression="DELETE conns :id SET lastSeen = :now",
                ConditionExpression="attribute_exists(pk) AND contains(conns, :one)",
                ExpressionAttributeValues={
                    ":id": {"SS": [connection_id]},
                    ":one": {"S": connection_id},
                    ":now": {"N": str(int(now * 1000))},
                },
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return not new.get("conns", {}).get("SS")

    def presence_of(self, user_ids: Iterable[str]) -> dict[str, Presence]:
        """Whether each of ``user_ids`` has an open connection, and when the last closed."""
        wanted = [keys.presence_key(u) for u in dict.fromkeys(user_ids)]
        found = {u: Presence(u, False, None) for u in dict.fromkeys(user_ids)}
        for item in batch_get(self._db, self._table, wanted, "pk, conns, lastSeen"):
            user_id = item["pk"]["S"].removeprefix("user#")
            last_seen = item.get("lastSeen", {}).get("N")
            online = bool(item.get("conns", {}).get("SS"))
            found[user_id] = Presence(user_id, online, int(last_seen) if last_seen else None)
        return found

    def connections_of(self, user_ids: Iterable[str]) -> dict[str, str]:
        """Every open connection of ``user_ids``: connection id → user id (strongly
        consistent, so a connection whose ``$connect`` finished is always found)."""
        wanted = [keys.presence_key(u) for u in dict.fromkeys(user_ids)]
        found: dict[str, str] = {}
        for item in batch_get(self._db, self._table, wanted, "pk, conns"):
            user_id = item["pk"]["S"].removeprefix("user#")
            for connection_id in item.get("conns", {}).get("SS", []):
                found[connection_id] = user_id
        return found

    def identity(self, connection_id: str) -> Identity:
        """Who is behind an open connection.

        Raises:
            LookupError: the connection is not stored (it was closed meanwhile).
        """
        meta = self._meta(connection_id)
        if meta is None:
            raise LookupError(connection_id)
        return Identity(meta["userId"]["S"], meta["username"]["S"], meta["email"]["S"])

    def _write_batch(self, requests: list[dict], what: str) -> None:
        """Write ``requests`` 25 at a time, retrying unprocessed items with bounded backoff.

        Raises:
            RuntimeError: some items were still unprocessed after the last attempt.
        """
        for start in range(0, len(requests), 25):
            pending: dict = {self._table: requests[start : start + 25]}
            for attempt in range(BATCH_ATTEMPTS):
                unprocessed = self._db.batch_write_item(RequestItems=pending).get(
                    "UnprocessedItems", {}
                )
                if not unprocessed:
                    break
                pending = unprocessed
                if attempt + 1 < BATCH_ATTEMPTS:
                    time.sleep(0.05 * 2**attempt)
            else:
                left = sum(len(items) for items in pending.values())
                raise RuntimeError(
                    f"could not {what}: {left} item(s) still unprocessed "
                    f"after {BATCH_ATTEMPTS} attempts"
                )

    def _meta(self, connection_id: str) -> dict | None:
        return self._db.get_item(
            TableName=self._table, Key=keys.connection_key(connection_id), ConsistentRead=True
        ).get("Item")

    def join(self, connection_id: str, room_id: str) -> None:
        """Join ``room_id``; joining a room twice is not an error.

        No transaction: first a conditional update adds the room to the connection's record
        (it must exist, and have a free place unless it already lists the room), then a put
        writes the membership. The put is done even when the room was already listed, so a
        retried join repairs one that stopped between the two writes (its client got no ack).
        Then the record is read again: a leave or a ``$disconnect`` that ran between the two
        writes no longer lists the room (or the record), and the membership is deleted again.

        Raises:
            TooManyRooms: the connection already joined the maximum number of rooms.
            LookupError: the connection is not stored (it was closed meanwhile).
        """
        try:
            meta = self._db.update_item(
                TableName=self._table,
                Key=keys.connection_key(connection_id),
                **add_room_within(room_id, self._max_rooms),
                ReturnValues="ALL_NEW",
                # The record as the failed condition saw it, so no read is needed to tell why.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )["Attributes"]
        except self._db.exceptions.ConditionalCheckFailedException as refused:
            if not refused.response.get("Item"):
                raise LookupError(connection_id) from None
            # The record lists max_rooms other rooms (a racing join may have taken the last place).
            raise TooManyRooms(f"a connection may join at most {self._max_rooms} rooms") from None
        who = Identity(meta["userId"]["S"], meta["username"]["S"], meta["email"]["S"])
        connected_at = meta.get("connectedAt", {}).get("N", "0")
        membership = self._membership_item(
            room_id, connection_id, who, int(meta["ttl"]["N"]), connected_at
        )
        self._db.put_item(TableName=self._table, Item=membership)
        # A leave, or the connection's removal, may have run between the two writes: then the
        # record no longer lists the room, and the membership just put is taken back, so no
        # broadcast of a room left (or of a closed connection) is ever delivered.
        now = self._meta(connection_id)
        if now is None or room_id not in now.get("rooms", {}).get("SS", []):
            self._db.delete_item(
                TableName=self._table, Key=keys.membership_key(room_id, connection_id)
            )
            if now is None:
                raise LookupError(connection_id)

    def leave(self, connection_id: str, room_id: str) -> None:
        """Leave ``room_id``; leaving a room not joined is not an error.

        A conditional update removes the room from the connection's record, then the membership
        is deleted; a retried leave finishes one that stopped between the two. If the connection
        is being removed meanwhile, nothing is written: its removal deletes the memberships, and
        an update here would recreate a record that never expires.
        """
        try:
            self._db.update_item(
                TableName=self._table,
                Key=keys.connection_key(connection_id),
                UpdateExpression="DELETE rooms :rooms",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":rooms": {"SS": [room_id]}},
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return
        self._db.delete_item(TableName=self._table, Key=keys.membership_key(room_id, connection_id))

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
                ":conn": {"S": CONNECTION_PREFIX},
            },
            ProjectionExpression="sk",
            ConsistentRead=True,
        )
        for page in pages:
            for item in page.get("Items", []):
                yield item["sk"]["S"].removeprefix(CONNECTION_PREFIX)

    def remove(
        self, connection_id: str, *also_rooms: str, user_id: str | None = None
    ) -> list[Presence]:
        """Delete the connection, all its memberships and its place among its user's open
        connections; removing twice is not an error. Returns the presence of the user if this
        was their last open connection (they went offline), else nothing.

        ``also_rooms`` are memberships to delete, and ``user_id`` the user whose set to leave,
        even if the connection's record no longer says so (it expired, or a join raced with the
        removal).
        """
        return self._remove(connection_id, self._meta(connection_id), also_rooms, user_id)

    def forget(
        self,
        connection_id: str,
        user_id: str,
        now: float | None = None,
        on_offline: OnOffline | None = None,
    ) -> bool:
        """Remove a connection ``@connections`` answered 410 for while delivering to
        ``user_id``'s connections (a chat's message, a notice); returns whether it was removed.

        As ``remove_gone``, a connection stored less than ``HANDSHAKE_GRACE_SECONDS`` ago is
        kept — and a connection enters its user's set only once its record is written.
        ``on_offline`` is told the user's presence if this was their last connection: no
        $disconnect may ever come for it.
        """
        now = time.time() if now is None else now
        meta = self._meta(connection_id)
        cutoff = (now - HANDSHAKE_GRACE_SECONDS) * 1000
        if meta is not None and int(meta.get("connectedAt", {}).get("N", "0")) > cutoff:
            return False
        _tell(on_offline, self._remove(connection_id, meta, (), user_id))
        return True

    def remove_gone(
        self,
        connection_id: str,
        room_id: str,
        now: float | None = None,
        on_offline: OnOffline | None = None,
    ) -> bool:
        """Remove a connection ``@connections`` answered 410 for, found in ``room_id``; returns
        whether it was removed (``on_offline``: as ``forget``'s).

        A connection stored less than ``HANDSHAKE_GRACE_SECONDS`` ago is kept: API Gateway
        answers 410 until the handshake completes, and ``$connect`` has already stored the
        connection (and its ``general`` membership) by then. If it is really gone,
        ``$disconnect`` removes it, or a broadcast after the grace period does.
        """
        now = time.time() if now is None else now
        cutoff = str(int((now - HANDSHAKE_GRACE_SECONDS) * 1000))
        meta = self._meta(connection_id)
        if meta is not None:
            if int(meta.get("connectedAt", {}).get("N", "0")) > int(cutoff):
                return False
            _tell(on_offline, self._remove(connection_id, meta, (room_id,)))
            return True
        # No record: expired or removed — or, for a moment, not yet written by $connect's batch.
        try:
            self._db.delete_item(
                TableName=self._table,
                Key=keys.membership_key(room_id, connection_id),
                ConditionExpression="attribute_not_exists(connectedAt) OR connectedAt < :cutoff",
                ExpressionAttributeValues={":cutoff": {"N": cutoff}},
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _remove(
        self,
        connection_id: str,
        meta: dict | None,
        also_rooms: Iterable[str],
        user_id: str | None = None,
    ) -> list[Presence]:
        rooms = set(meta.get("rooms", {}).get("SS", []) if meta else []) | set(also_rooms)
        requests = [{"DeleteRequest": {"Key": keys.connection_key(connection_id)}}]
        requests += [
            {"DeleteRequest": {"Key": keys.membership_key(room, connection_id)}}
            for room in sorted(rooms)
        ]
        self._write_batch(requests, f"delete connection {connection_id} items")
        users = {meta["userId"]["S"]} if meta else set()
        if user_id is not None:
            users.add(user_id)
        now = time.time()
        return [
            Presence(user, False, int(now * 1000))
            for user in sorted(users)
            if self._unregister(user, connection_id, now)
        ]
