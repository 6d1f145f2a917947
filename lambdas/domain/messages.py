"""Chat messages: store once per ``clientMessageId``, read history page by page.

History lives in the room's partition (``room#{roomId}``) — or the chat's (``chat#{chatId}``) —
sorted by ``{timestamp}#{messageId}``, so a page is one strongly consistent Query. A chat's
message also carries the chat's sequence number (``seq``), given by ``next_seq`` once its
``clientMessageId`` is claimed, so a repeat never takes a second one. The claim that makes a
``clientMessageId`` unique is a separate item (``dedupe#{userId}#{clientMessageId}``), expired
by TTL. No transaction is used: a cancelled transaction may still leave stream records behind
(moto does), and two conditional puts are cheaper.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from lambdas.contract.frames import HISTORY_FRAME_MAX_BYTES, Message, encode, history_frame
from lambdas.contract.media import Attachment
from lambdas.domain import keys
from lambdas.domain.paging import query_one_more

__all__ = [
    "ATTACHMENT_KIND",
    "MESSAGE_KIND",
    "MessageStore",
    "fit_history_page",
    "message_from_item",
    "message_item",
]

MESSAGE_KIND = "message"
ATTACHMENT_KIND = "attachment"


def _attachments_from_item(item: dict[str, Any]) -> tuple[Attachment, ...]:
    return tuple(
        Attachment(
            key=entry["M"]["key"]["S"],
            content_type=entry["M"]["contentType"]["S"],
            size=int(entry["M"]["size"]["N"]),
            name=entry["M"]["name"]["S"],
        )
        for entry in item.get("attachments", {}).get("L", [])
    )


def _attachment_item(attachment: Attachment) -> dict[str, Any]:
    return {
        "key": {"S": attachment.key},
        "contentType": {"S": attachment.content_type},
        "size": {"N": str(attachment.size)},
        "name": {"S": attachment.name},
    }


def message_from_item(item: dict[str, Any]) -> Message:
    """A ``Message`` from a stored item (DynamoDB JSON), as the broadcaster and history read it."""
    client_message_id = item.get("clientMessageId", {}).get("S")
    seq = item.get("seq", {}).get("N")
    return Message(
        message_id=item["messageId"]["S"],
        room_id=item.get("roomId", {}).get("S"),
        user_id=item["userId"]["S"],
        username=item["username"]["S"],
        message=item["message"]["S"],
        timestamp=int(item["timestamp"]["N"]),
        client_message_id=client_message_id,
        chat_id=item.get("chatId", {}).get("S"),
        seq=int(seq) if seq is not None else None,
        attachments=_attachments_from_item(item),
    )


def _place(room_id: str | None, chat_id: str | None) -> str:
    """The partition of a room, or of a chat when ``chat_id`` is given."""
    if chat_id is not None:
        return keys.chat_partition(chat_id)
    assert room_id is not None, "a room or a chat"
    return keys.room_partition(room_id)


def _partition(message: Message) -> str:
    if message.chat_id is not None:
        return keys.chat_partition(message.chat_id)
    assert message.room_id is not None
    return keys.room_partition(message.room_id)


def message_item(message: Message) -> dict[str, Any]:
    """The stored item of ``message`` (DynamoDB JSON): what the stream's NEW_IMAGE carries.

    Room for what later contract versions add to a message (attachments, edits): new
    attributes of this item, read by ``message_from_item``.
    """
    field, target = message.target
    item = {
        "pk": {"S": _partition(message)},
        "sk": {"S": keys.message_sort_key(message.timestamp, message.message_id)},
        "kind": {"S": MESSAGE_KIND},
        "messageId": {"S": message.message_id},
        field: {"S": target},
        "userId": {"S": message.user_id},
        "username": {"S": message.username},
        "message": {"S": message.message},
        "timestamp": {"N": str(message.timestamp)},
    }
    if message.seq is not None:
        item["seq"] = {"N": str(message.seq)}
    if message.client_message_id is not None:
        item["clientMessageId"] = {"S": message.client_message_id}
    if message.attachments:
        item["attachments"] = {"L": [{"M": _attachment_item(a)} for a in message.attachments]}
    return item


def fit_history_page(
    room_id: str,
    messages: list[Message],
    next_before: str | None,
    max_bytes: int = HISTORY_FRAME_MAX_BYTES,
) -> tuple[list[Message], str | None]:
    """The newest of ``messages`` (oldest first) whose history frame fits ``max_bytes`` of
    UTF-8, and its cursor: ``next_before`` if all fit, else the sort key of the oldest kept, so
    the next page starts right before it. At least one message is kept (one always fits)."""

    def frame_bytes(page: list[Message], cursor: str | None) -> int:
        return len(encode(history_frame(room_id, page, cursor)).encode("utf-8"))

    if not messages or frame_bytes(messages, next_before) <= max_bytes:
        return messages, next_before
    oldest = messages[0]
    # Every cursor has the same length, so the frame's envelope is the same whichever it holds.
    total = frame_bytes([], keys.message_sort_key(oldest.timestamp, oldest.message_id))
    kept = 0
    for message in reversed(messages):
        total += len(encode(message.to_wire()).encode("utf-8")) + (1 if kept else 0)
        if total > max_bytes and kept:
            break
        kept += 1
    page = messages[-kept:]
    return page, keys.message_sort_key(page[0].timestamp, page[0].message_id)


class MessageStore:
    """The Messages table, over a boto3 DynamoDB client."""

    def __init__(self, dynamodb: Any, table: str, dedupe_ttl_seconds: int) -> None:
        self._db = dynamodb
        self._table = table
        self._dedupe_ttl_seconds = dedupe_ttl_seconds

    def put(
        self,
        room_id: str | None,
        user_id: str,
        username: str,
        text: str,
        client_message_id: str | None,
        now_ms: int | None = None,
        *,
        chat_id: str | None = None,
        next_seq: Callable[[], int] | None = None,
        attachments: tuple[Attachment, ...] = (),
    ) -> tuple[Message, bool]:
        """Store a message to ``room_id`` (or to ``chat_id``, numbered by ``next_seq``); returns
        it and whether it repeats an earlier ``clientMessageId``.

        With a ``clientMessageId`` the claim is written first, naming the message's key; the
        message follows under that key. A repeat finds the claim and returns the original. If an
        earlier attempt died between the two writes, the repeat completes it under the claimed
        key, so the message is still stored — and streamed, hence broadcast — exactly once.
        """
        timestamp = int(time.time() * 1000) if now_ms is None else now_ms
        message = Message(
            message_id=str(uuid.uuid4()),
            room_id=room_id if chat_id is None else None,
            user_id=user_id,
            username=username,
            message=text,
            timestamp=timestamp,
            client_message_id=client_message_id,
            chat_id=chat_id,
            attachments=attachments,
        )
        if client_message_id is None:
            message = self._numbered(message, next_seq)
            self._write(message)
            return message, False
        field, target = message.target
        claim = {
            **keys.dedupe_key(user_id, client_message_id),
            "kind": {"S": "dedupe"},
            "messageId": {"S": message.message_id},
            field: {"S": target},
            "timestamp": {"N": str(timestamp)},
            "ttl": {"N": str(timestamp // 1000 + self._dedupe_ttl_seconds)},
        }
        try:
            self._db.put_item(
                TableName=self._table, Item=claim, ConditionExpression="attribute_not_exists(pk)"
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return self._complete_claimed(message, next_seq)
        message = self._numbered(message, next_seq)
        self._write(message)
        return message, False

    @staticmethod
    def _numbered(message: Message, next_seq: Callable[[], int] | None) -> Message:
        """A chat's message with its sequence number (taken only once it will be written)."""
        if message.chat_id is None or next_seq is None:
            return message
        return replace(message, seq=next_seq())

    def _write(self, message: Message) -> bool:
        """Write ``message`` unless its key exists already; returns whether it was written."""
        item = message_item(message)
        try:
            self._db.put_item(
                TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _complete_claimed(
        self, attempt: Message, next_seq: Callable[[], int] | None
    ) -> tuple[Message, bool]:
        assert attempt.client_message_id is not None
        claim = self._db.get_item(
            TableName=self._table,
            Key=keys.dedupe_key(attempt.user_id, attempt.client_message_id),
            ConsistentRead=True,
        )["Item"]
        claimed = replace(
            attempt,
            message_id=claim["messageId"]["S"],
            room_id=claim.get("roomId", {}).get("S"),
            chat_id=claim.get("chatId", {}).get("S"),
            timestamp=int(claim["timestamp"]["N"]),
        )
        key = {
            "pk": {"S": _partition(claimed)},
            "sk": {"S": keys.message_sort_key(claimed.timestamp, claimed.message_id)},
        }
        stored = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        if stored is not None:
            return message_from_item(stored), True
        if claimed.chat_id != attempt.chat_id:  # claimed for another chat: cannot number it here
            next_seq = None
        numbered = self._numbered(claimed, next_seq)
        if self._write(numbered):
            return numbered, False
        stored = self._db.get_item(TableName=self._table, Key=key, ConsistentRead=True)["Item"]
        return message_from_item(stored), True

    def record_attachments(
        self,
        room_id: str | None,
        attachments: tuple[Attachment, ...],
        *,
        chat_id: str | None = None,
    ) -> None:
        """Note that each of ``attachments`` is posted in ``room_id`` (or ``chat_id``): its
        members (participants) may download it. Written before the message, so a stored
        message's files are always downloadable."""
        place = _place(room_id, chat_id)
        for attachment in attachments:
            self._db.put_item(
                TableName=self._table,
                Item={
                    **keys.attachment_key(attachment.key, place),
                    "kind": {"S": ATTACHMENT_KIND},
                    **_attachment_item(attachment),
                },
            )

    def attachment(
        self, room_id: str | None, object_key: str, *, chat_id: str | None = None
    ) -> Attachment | None:
        """The attachment ``object_key`` as posted in ``room_id`` (or ``chat_id``), or None if
        it never was."""
        item = self._db.get_item(
            TableName=self._table,
            Key=keys.attachment_key(object_key, _place(room_id, chat_id)),
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return None
        return Attachment(
            key=item["key"]["S"],
            content_type=item["contentType"]["S"],
            size=int(item["size"]["N"]),
            name=item["name"]["S"],
        )

    def in_room(self, room_id: str, timestamp: int, message_id: str) -> bool:
        """Whether the room's history holds message ``message_id`` sent at ``timestamp`` (one
        GetItem of its history item)."""
        key = {
            "pk": {"S": keys.room_partition(room_id)},
            "sk": {"S": keys.message_sort_key(timestamp, message_id)},
        }
        item = self._db.get_item(
            TableName=self._table, Key=key, ProjectionExpression="pk", ConsistentRead=True
        ).get("Item")
        return item is not None

    def history(
        self, room_id: str | None, limit: int, before: str | None, *, chat_id: str | None = None
    ) -> tuple[list[Message], str | None]:
        """Up to ``limit`` messages of the room (or of ``chat_id``) older than ``before``, oldest
        first, and the next cursor."""
        partition = (
            keys.chat_partition(chat_id) if chat_id is not None else keys.room_partition(room_id)
        )
        condition = "pk = :pk"
        values: dict[str, Any] = {":pk": {"S": partition}}
        if before is not None:
            condition += " AND sk < :before"
            values[":before"] = {"S": before}
        # One more than asked tells whether an older page exists, without an empty last page.
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        items = query_one_more(self._db, query, limit)
        newest_first = items[:limit]
        next_before = newest_first[-1]["sk"]["S"] if len(items) > limit else None
        return [message_from_item(i) for i in reversed(newest_first)], next_before
