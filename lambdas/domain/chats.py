"""Chats (contract v2): direct and group conversations, private to their participants.

One partition of the Chats table per chat:

- ``chat#{chatId}`` / ``meta``: type, name, the message sequence ``seq`` (one atomic ADD per
  message) and the last message.
- ``chat#{chatId}`` / ``member#{userId}``: one participant. It is also the participant's entry
  in their chat list: the sparse index ``inbox`` (``inboxUser`` = the user, ``inboxOrder`` =
  ``{lastActivity}#{chatId}``) lists a user's chats by last activity with one Query, and the item
  carries what the list shows — the last message, ``lastSeq`` and the user's read marker
  ``readSeq`` (unread = ``lastSeq - readSeq``).

A direct chat's id is derived from its two users (``d-`` and a hash of the sorted pair); its
``meta`` is written by a put conditional on it not existing: of any number of creations, from
either side and racing, exactly one writes it, and every one then makes sure both member items
exist (conditional puts), so a creation that stopped half-way is completed by the next.

No write here is a transaction. Every change is to single items, with conditions, in an order
that is safe to repeat — so the Chats table can carry a stream and take many writes per message
without transactions' double cost and conflicts. What that costs, where it shows:

- a group is written as its ``meta``, then its creator, then the others (in batches): should the
  call fail between, it answers an error and leaves a group with fewer participants, which the
  creator may complete by adding them;
- adding checks the limit, writes the new member items, then counts again: of two additions
  racing past the limit, each takes its own back and answers ``TOO_MANY_PARTICIPANTS``.

Participation is checked with a strongly consistent read of the member item: a user added is a
participant at once, one who left is not.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lambdas.contract.chats import (
    DIRECT,
    GROUP,
    PREVIEW_CHARS,
    ChatDetail,
    ChatSummary,
    LastMessage,
    Person,
)
from lambdas.contract.errors import ChatNotFound, NotAGroup, TooManyParticipants
from lambdas.contract.frames import Message
from lambdas.domain import keys
from lambdas.domain.paging import query_one_more

__all__ = ["INBOX_INDEX", "ChatStore", "direct_chat_id", "summary_from_item"]

INBOX_INDEX = "inbox"
INBOX_WRITERS = 8  # participants' list entries updated at once per message
BATCH_ATTEMPTS = 5


def direct_chat_id(a: str, b: str) -> str:
    """The one id of the direct chat of users ``a`` and ``b`` (in either order)."""
    low, high = sorted((a, b))
    return "d-" + hashlib.sha256(f"{low}\n{high}".encode()).hexdigest()[:40]


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _last_message_item(message: Message) -> dict[str, Any]:
    return {
        "M": {
            "messageId": _s(message.message_id),
            "userId": _s(message.user_id),
            "username": _s(message.username),
            "preview": _s(message.message[:PREVIEW_CHARS]),
            "timestamp": _n(message.timestamp),
            "seq": _n(message.seq or 0),
        }
    }


def _last_message(value: dict[str, Any] | None) -> LastMessage | None:
    if not value:
        return None
    m = value["M"]
    return LastMessage(
        m["messageId"]["S"],
        m["userId"]["S"],
        m["username"]["S"],
        m["preview"]["S"],
        int(m["timestamp"]["N"]),
        int(m["seq"]["N"]),
    )


def summary_from_item(item: dict[str, Any]) -> ChatSummary:
    """The chat list entry a member item (DynamoDB JSON) holds."""
    peer = None
    if "peerId" in item:
        peer = Person(item["peerId"]["S"], item["peerName"]["S"])
    return ChatSummary(
        chat_id=item["chatId"]["S"],
        type=item["chatType"]["S"],
        name=item.get("chatName", {}).get("S"),
        peer=peer,
        created_at=int(item["createdAt"]["N"]),
        last_activity=int(item["lastActivity"]["N"]),
        last_message=_last_message(item.get("lastMessage")),
        last_seq=int(item["lastSeq"]["N"]),
        read_seq=int(item["readSeq"]["N"]),
    )


class ChatStore:
    """The chats of the Chats table, over a boto3 DynamoDB client."""

    def __init__(self, dynamodb: Any, table: str, max_participants: int) -> None:
        self._db = dynamodb
        self._table = table
        self.max_participants = max_participants

    # -- items -----------------------------------------------------------------------------------

    def _member_item(
        self,
        meta: dict[str, Any],
        person: Person,
        peer: Person | None,
        now: int,
    ) -> dict[str, Any]:
        chat_id = meta["chatId"]["S"]
        seq = int(meta.get("seq", {}).get("N", "0"))
        item = {
            **keys.member_key(chat_id, person.user_id),
            "kind": _s("member"),
            "chatId": _s(chat_id),
            "chatType": meta["chatType"],
            "userId": _s(person.user_id),
            "username": _s(person.username),
            "createdAt": meta["createdAt"],
            "joinedAt": _n(now),
            "lastActivity": _n(now),
            "lastSeq": _n(seq),
            "readSeq": _n(seq),  # what was said before one joined is history, not unread
            "inboxUser": _s(person.user_id),
            "inboxOrder": _s(keys.inbox_order(now, chat_id)),
        }
        if "chatName" in meta:
            item["chatName"] = meta["chatName"]
        if peer is not None:
            item["peerId"], item["peerName"] = _s(peer.user_id), _s(peer.username)
        if "lastMessage" in meta:
            item["lastMessage"] = meta["lastMessage"]
        return item

    @staticmethod
    def _meta_item(chat_id: str, kind: str, name: str | None, creator: str, now: int):
        item = {
            **keys.chat_meta_key(chat_id),
            "kind": _s("chat"),
            "chatId": _s(chat_id),
            "chatType": _s(kind),
            "createdAt": _n(now),
            "createdBy": _s(creator),
            "seq": _n(0),
            "lastActivity": _n(now),
        }
        if name is not None:
            item["chatName"] = _s(name)
        return item

    def _put_new(self, item: dict[str, Any]) -> bool:
        """Put ``item`` unless its key exists; returns whether it was written."""
        try:
            self._db.put_item(
                TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _put_all(self, items: list[dict[str, Any]]) -> None:
        """Put ``items`` (new keys) 25 at a time, retrying unprocessed ones with backoff."""
        for start in range(0, len(items), 25):
            pending: dict[str, Any] = {
                self._table: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]
            }
            for attempt in range(BATCH_ATTEMPTS):
                pending = self._db.batch_write_item(RequestItems=pending).get(
                    "UnprocessedItems", {}
                )
                if not pending:
                    break
                time.sleep(0.05 * 2**attempt)
            else:
                raise RuntimeError("could not write a group's participants: items unprocessed")

    # -- creating --------------------------------------------------------------------------------

    def create_direct(
        self, me: Person, other: Person, now: int | None = None
    ) -> tuple[ChatDetail, bool]:
        """The direct chat of ``me`` and ``other``, created unless it exists; returns it and
        whether this call created it."""
        now = int(time.time() * 1000) if now is None else now
        chat_id = direct_chat_id(me.user_id, other.user_id)
        meta = self._meta_item(chat_id, DIRECT, None, me.user_id, now)
        created = self._put_new(meta)
        if not created:  # the other side, or an earlier call: complete what it may have left
            meta = self._db.get_item(
                TableName=self._table, Key=keys.chat_meta_key(chat_id), ConsistentRead=True
            )["Item"]
        self._put_new(self._member_item(meta, me, other, now))
        self._put_new(self._member_item(meta, other, me, now))
        return self.detail(chat_id, me.user_id), created

    def create_group(
        self, me: Person, name: str, others: list[Person], now: int | None = None
    ) -> ChatDetail:
        """A new group of ``me`` and ``others`` (at most ``max_participants`` in all)."""
        now = int(time.time() * 1000) if now is None else now
        if len(others) + 1 > self.max_participants:
            raise TooManyParticipants(f"a group has at most {self.max_participants} participants")
        chat_id = "g-" + uuid.uuid4().hex
        meta = self._meta_item(chat_id, GROUP, name, me.user_id, now)
        self._put_new(meta)
        self._put_new(self._member_item(meta, me, None, now))
        self._put_all([self._member_item(meta, person, None, now) for person in others])
        return self.detail(chat_id, me.user_id)

    # -- reading ---------------------------------------------------------------------------------

    def _partition(self, chat_id: str) -> list[dict[str, Any]]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": _s(keys.chat_partition(chat_id))},
            "ConsistentRead": True,
        }
        items: list[dict[str, Any]] = []
        while True:
            page = self._db.query(**query)
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return items
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def detail(self, chat_id: str, user_id: str) -> ChatDetail:
        """The chat as participant ``user_id`` sees it, with every participant.

        Raises:
            ChatNotFound: no such chat, or ``user_id`` is not a participant.
        """
        items = self._partition(chat_id)
        members = [i for i in items if i["sk"]["S"].startswith(keys.MEMBER_PREFIX)]
        mine = [i for i in members if i["userId"]["S"] == user_id]
        if not mine:
            raise ChatNotFound()
        people = sorted(
            (Person(i["userId"]["S"], i["username"]["S"]) for i in members),
            key=lambda p: (p.username.casefold(), p.user_id),
        )
        return ChatDetail(summary_from_item(mine[0]), tuple(people))

    def member(self, chat_id: str, user_id: str) -> dict[str, Any]:
        """The member item of a participant (strongly consistent).

        Raises:
            ChatNotFound: no such chat, or ``user_id`` is not a participant.
        """
        item = self._db.get_item(
            TableName=self._table, Key=keys.member_key(chat_id, user_id), ConsistentRead=True
        ).get("Item")
        if item is None:
            raise ChatNotFound()
        return item

    def summary(self, chat_id: str, user_id: str) -> ChatSummary:
        """The chat list entry of participant ``user_id``.

        Raises:
            ChatNotFound: no such chat, or ``user_id`` is not a participant.
        """
        return summary_from_item(self.member(chat_id, user_id))

    def participants(self, chat_id: str) -> list[str]:
        """The user ids of the chat's participants (strongly consistent)."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :member)",
            "ExpressionAttributeValues": {
                ":pk": _s(keys.chat_partition(chat_id)),
                ":member": _s(keys.MEMBER_PREFIX),
            },
            "ProjectionExpression": "sk",
            "ConsistentRead": True,
        }
        found: list[str] = []
        while True:
            page = self._db.query(**query)
            found += [i["sk"]["S"].removeprefix(keys.MEMBER_PREFIX) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return found
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def list_chats(
        self, user_id: str, limit: int, after: str | None
    ) -> tuple[list[ChatSummary], str | None]:
        """The user's chats, most recent activity first, after the position ``after``: up to
        ``limit`` and the position of the next page (or None). Read from the ``inbox`` index,
        which follows the table within a moment (it is eventually consistent)."""
        condition = "inboxUser = :user"
        values: dict[str, Any] = {":user": _s(user_id)}
        if after is not None:
            condition += " AND inboxOrder < :after"
            values[":after"] = _s(after)
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": INBOX_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
        }
        items = query_one_more(self._db, query, limit)
        shown = items[:limit]
        next_after = shown[-1]["inboxOrder"]["S"] if len(items) > limit else None
        return [summary_from_item(i) for i in shown], next_after

    # -- changing --------------------------------------------------------------------------------

    def next_seq(self, chat_id: str, now: int | None = None) -> int:
        """Take the chat's next message number (and mark its activity).

        Raises:
            ChatNotFound: the chat ended.
        """
        now = int(time.time() * 1000) if now is None else now
        try:
            attributes = self._db.update_item(
                TableName=self._table,
                Key=keys.chat_meta_key(chat_id),
                UpdateExpression="ADD seq :one SET lastActivity = :now",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":one": _n(1), ":now": _n(now)},
                ReturnValues="UPDATED_NEW",
            )["Attributes"]
        except self._db.exceptions.ConditionalCheckFailedException:
            raise ChatNotFound() from None
        return int(attributes["seq"]["N"])

    def add(
        self, chat_id: str, me: str, others: list[Person], now: int | None = None
    ) -> ChatDetail:
        """Add ``others`` to the group (those already in it are left as they are).

        Raises:
            ChatNotFound: no such chat, or ``me`` is not a participant.
            NotAGroup: the chat is a direct chat.
            TooManyParticipants: the group would have more than ``max_participants``.
        """
        now = int(time.time() * 1000) if now is None else now
        if self.member(chat_id, me)["chatType"]["S"] != GROUP:
            raise NotAGroup("participants can be added to a group chat only")
        present = set(self.participants(chat_id))
        new = [p for p in others if p.user_id not in present]
        if not new:
            return self.detail(chat_id, me)
        too_many = TooManyParticipants(f"a group has at most {self.max_participants} participants")
        if len(present) + len(new) > self.max_participants:
            raise too_many
        meta = self._db.get_item(
            TableName=self._table, Key=keys.chat_meta_key(chat_id), ConsistentRead=True
        ).get("Item")
        if meta is None:
            raise ChatNotFound()  # ended meanwhile
        written = [p for p in new if self._put_new(self._member_item(meta, p, None, now))]
        if len(self.participants(chat_id)) > self.max_participants:
            for person in written:  # another addition raced past the limit: take ours back
                self._db.delete_item(
                    TableName=self._table,
                    Key=keys.member_key(chat_id, person.user_id),
                    ConditionExpression="joinedAt = :now",
                    ExpressionAttributeValues={":now": _n(now)},
                )
            raise too_many
        return self.detail(chat_id, me)

    def leave(self, chat_id: str, user_id: str) -> bool:
        """``user_id`` leaves the group; returns whether they were the last (the chat ended).

        Raises:
            ChatNotFound: no such chat, or ``user_id`` is not a participant.
            NotAGroup: the chat is a direct chat.
        """
        if self.member(chat_id, user_id)["chatType"]["S"] != GROUP:
            raise NotAGroup("a direct chat cannot be left")
        try:
            self._db.delete_item(
                TableName=self._table,
                Key=keys.member_key(chat_id, user_id),
                ConditionExpression="attribute_exists(pk)",
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            raise ChatNotFound() from None  # left meanwhile
        if self.participants(chat_id):
            return False
        # The last one out ends it: nobody is left who could add anyone.
        self._db.delete_item(TableName=self._table, Key=keys.chat_meta_key(chat_id))
        return True

    def mark_read(self, chat_id: str, user_id: str, seq: int) -> ChatSummary:
        """Move the participant's read marker forward to ``seq`` (never back).

        Raises:
            ChatNotFound: no such chat, or ``user_id`` is not a participant.
        """
        try:
            item = self._db.update_item(
                TableName=self._table,
                Key=keys.member_key(chat_id, user_id),
                UpdateExpression="SET readSeq = :seq",
                ConditionExpression="attribute_exists(pk) AND readSeq < :seq",
                ExpressionAttributeValues={":seq": _n(seq)},
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except self._db.exceptions.ConditionalCheckFailedException:
            item = self.member(chat_id, user_id)  # ChatNotFound, or the marker was ahead
        return summary_from_item(item)

    # -- the chat list entries of a new message (the inbox stream consumer) ----------------------

    def record(self, message: Message) -> int:
        """Show ``message`` in its chat and in every participant's chat list; returns how many
        entries changed. Idempotent and order-proof: an entry only moves to a higher ``seq``."""
        assert message.chat_id is not None and message.seq is not None
        last = _last_message_item(message)
        order = keys.inbox_order(message.timestamp, message.chat_id)
        values = {":seq": _n(message.seq), ":now": _n(message.timestamp), ":last": last}

        def entry(user_id: str) -> int:
            changed = self._update_if_newer(
                keys.member_key(message.chat_id, user_id),
                "SET lastSeq = :seq, lastActivity = :now, inboxOrder = :order, lastMessage = :last",
                "lastSeq < :seq",
                {**values, ":order": _s(order)},
            )
            if user_id == message.user_id:  # what one sent, one has read
                self._update_if_newer(
                    keys.member_key(message.chat_id, user_id),
                    "SET readSeq = :seq",
                    "readSeq < :seq",
                    {":seq": values[":seq"]},
                )
            return int(changed)

        self._update_if_newer(
            keys.chat_meta_key(message.chat_id),
            "SET lastMessage = :last, lastMessageSeq = :seq",
            "(attribute_not_exists(lastMessageSeq) OR lastMessageSeq < :seq)",
            {":seq": values[":seq"], ":last": last},
        )
        participants = self.participants(message.chat_id)
        with ThreadPoolExecutor(max_workers=INBOX_WRITERS) as pool:
            return sum(pool.map(entry, participants))

    def _update_if_newer(
        self, key: dict[str, Any], update: str, newer: str, values: dict[str, Any]
    ) -> bool:
        try:
            self._db.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression=update,
                ConditionExpression=f"attribute_exists(pk) AND {newer}",
                ExpressionAttributeValues=values,
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False  # gone (left, ended) or already newer
        return True
