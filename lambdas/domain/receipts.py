"""Receipts (contract v3): per-participant markers on the chat's member items.

Each participant's member item (``chat#{chatId}`` / ``member#{userId}``) carries two markers:
``deliveredSeq`` (the newest message that reached one of the user's connections) and ``readSeq``
(the newest the user's app showed; also the chat list's unread marker). A marker moves with one
conditional update — ``SET m = :seq`` if ``m < :seq`` — however many messages it covers, and
never back: an older receipt, a repeat or a late retry changes nothing.
"""

from __future__ import annotations

from typing import Any

from lambdas.contract.errors import ChatNotFound, ValidationFailed
from lambdas.contract.receipts import DELIVERED, Marker
from lambdas.domain import keys

__all__ = ["ReceiptStore", "marker_from_item"]

ATTRIBUTE = {DELIVERED: "deliveredSeq", "read": "readSeq"}


def marker_from_item(item: dict[str, Any]) -> Marker:
    """The markers a member item (DynamoDB JSON) holds (a missing one is 0)."""
    return Marker(
        user_id=item["userId"]["S"],
        username=item.get("username", {}).get("S", ""),
        delivered_seq=int(item.get("deliveredSeq", {}).get("N", "0")),
        read_seq=int(item.get("readSeq", {}).get("N", "0")),
    )


class ReceiptStore:
    """The receipt markers of the Chats table, over a boto3 DynamoDB client."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self._db = dynamodb
        self._table = table

    def _member(self, chat_id: str, user_id: str) -> dict[str, Any]:
        item = self._db.get_item(
            TableName=self._table, Key=keys.member_key(chat_id, user_id), ConsistentRead=True
        ).get("Item")
        if item is None:
            raise ChatNotFound()
        return item

    def _latest_seq(self, chat_id: str) -> int | None:
        meta = self._db.get_item(
            TableName=self._table,
            Key=keys.chat_meta_key(chat_id),
            ProjectionExpression="seq",
            ConsistentRead=True,
        ).get("Item")
        return None if meta is None else int(meta.get("seq", {}).get("N", "0"))

    def move(self, chat_id: str, user_id: str, kind: str, seq: int) -> tuple[dict, bool]:
        """Move the participant's ``kind`` marker forward to ``seq`` (trusted: the caller knows
        the message exists); returns the member item now and whether the marker moved.

        Raises:
            ChatNotFound: ``user_id`` is not (or no longer) a participant.
        """
        attribute = ATTRIBUTE[kind]
        try:
            item = self._db.update_item(
                TableName=self._table,
                Key=keys.member_key(chat_id, user_id),
                UpdateExpression=f"SET {attribute} = :seq",
                ConditionExpression=(
                    f"attribute_exists(pk) AND (attribute_not_exists({attribute}) "
                    f"OR {attribute} < :seq)"
                ),
                ExpressionAttributeValues={":seq": {"N": str(seq)}},
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except self._db.exceptions.ConditionalCheckFailedException:
            return self._member(chat_id, user_id), False  # ChatNotFound, or already as far
        return item, True

    def advance(self, chat_id: str, user_id: str, kind: str, seq: int) -> tuple[dict, bool]:
        """A participant's receipt: move their ``kind`` marker forward to ``seq``, which must
        name a message of the chat; returns the member item now and whether the marker moved.

        Raises:
            ChatNotFound: no such chat, or ``user_id`` is not a participant (checked before
                ``seq``, so an outsider learns nothing of the chat).
            ValidationFailed: ``seq`` is beyond the chat's latest message.
        """
        latest = self._latest_seq(chat_id)
        if latest is None:
            raise ChatNotFound()
        if seq > latest:
            self._member(chat_id, user_id)
            raise ValidationFailed(
                f"seq {seq} is beyond the chat's latest message ({latest})", field="seq"
            )
        if seq == 0:
            return self._member(chat_id, user_id), False
        return self.move(chat_id, user_id, kind, seq)

    def markers(self, chat_id: str, user_id: str) -> list[Marker]:
        """Every participant's markers (by username), for participant ``user_id``.

        Raises:
            ChatNotFound: no such chat, or ``user_id`` is not a participant.
        """
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :member)",
            "ExpressionAttributeValues": {
                ":pk": {"S": keys.chat_partition(chat_id)},
                ":member": {"S": keys.MEMBER_PREFIX},
            },
            "ProjectionExpression": "userId, username, deliveredSeq, readSeq",
            "ConsistentRead": True,
        }
        found: list[Marker] = []
        while True:
            page = self._db.query(**query)
            found += [marker_from_item(i) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        if not any(m.user_id == user_id for m in found):
            raise ChatNotFound()
        return sorted(found, key=lambda m: (m.username.casefold(), m.user_id))
