"""Storing and reading messages (lambdas/domain/messages.py) against moto's DynamoDB."""

from __future__ import annotations

import time
import uuid

import pytest

from lambdas.contract.validation import parse_history
from lambdas.domain import keys
from lambdas.domain.messages import MessageStore
from tests.functional.helpers import scan_all

T0 = 1_700_000_000_000
DEDUPE_TTL = 86400


@pytest.fixture
def table(make_table) -> str:
    return make_table("messages").name


@pytest.fixture
def store(dynamodb, table) -> MessageStore:
    return MessageStore(dynamodb, table, dedupe_ttl_seconds=DEDUPE_TTL)


def message_items(dynamodb, table) -> list[dict]:
    return [i for i in scan_all(dynamodb, table) if i["pk"]["S"].startswith("room#")]


def claim_items(dynamodb, table) -> list[dict]:
    return [i for i in scan_all(dynamodb, table) if i["pk"]["S"].startswith("dedupe#")]


def put_many(store, count, room="general", start=T0, step=1, prefix="m"):
    """Store ``count`` messages one ``step`` ms apart; returns them oldest first."""
    return [
        store.put(room, "user-1", "Ada", f"{prefix}{n}", None, now_ms=start + n * step)[0]
        for n in range(count)
    ]


def all_pages(store, room, limit):
    """Every page of a room's history from the newest, following nextBefore to the end."""
    pages, before = [], None
    for _ in range(100):
        messages, before = store.history(room, limit, before)
        pages.append(messages)
        if before is None:
            return pages
        parse_history({"roomId": room, "before": before})  # the cursor is one a client may send
    raise AssertionError("history never reached its last page")


# --- put -----------------------------------------------------------------------------------------


def test_put_without_client_message_id_stores_one_message(store, dynamodb, table):
    """A message without clientMessageId gets a fresh id and the server timestamp."""
    before_ms = int(time.time() * 1000)
    message, duplicate = store.put("general", "user-1", "Ada", "hello", None)
    after_ms = int(time.time() * 1000)
    assert duplicate is False
    assert uuid.UUID(message.message_id)
    assert before_ms <= message.timestamp <= after_ms
    assert (message.room_id, message.user_id, message.username, message.message) == (
        "general",
        "user-1",
        "Ada",
        "hello",
    )
    assert message.client_message_id is None
    (item,) = message_items(dynamodb, table)
    assert item["sk"]["S"] == keys.message_sort_key(message.timestamp, message.message_id)
    assert item["kind"]["S"] == "message"
    assert "clientMessageId" not in item
    assert "ttl" not in item
    assert claim_items(dynamodb, table) == []


def test_put_without_client_message_id_twice_stores_two_messages(store, dynamodb, table):
    """Without clientMessageId, identical texts are two messages."""
    first, _ = store.put("general", "user-1", "Ada", "same", None)
    second, duplicate = store.put("general", "user-1", "Ada", "same", None)
    assert duplicate is False
    assert first.message_id != second.message_id
    assert len(message_items(dynamodb, table)) == 2


def test_put_keeps_the_text_verbatim(store):
    """HTML, whitespace and non-ASCII text come back exactly as sent."""
    text = "  <b>bold</b> & <script>x</script>\n\t😀 é  "
    store.put("general", "user-1", "Ada", text, None, now_ms=T0)
    (message,), _ = store.history("general", 10, None)
    assert message.message == text


def test_repeated_client_message_id_is_stored_once(store, dynamodb, table):
    """A repeat returns the original message and duplicate=True; one message is stored."""
    original, first_duplicate = store.put("general", "user-1", "Ada", "hi", "cm-1", now_ms=T0)
    repeat, second_duplicate = store.put("general", "user-1", "Ada", "hi", "cm-1", now_ms=T0 + 5)
    assert first_duplicate is False
    assert second_duplicate is True
    assert repeat == original
    assert repeat.timestamp == T0
    assert repeat.client_message_id == "cm-1"
    (item,) = message_items(dynamodb, table)
    assert item["messageId"]["S"] == original.message_id
    assert item["clientMessageId"]["S"] == "cm-1"
    (claim,) = claim_items(dynamodb, table)
    assert claim["messageId"]["S"] == original.message_id
    assert claim["ttl"]["N"] == str(T0 // 1000 + DEDUPE_TTL)


def test_same_client_message_id_from_two_users_is_two_messages(store, dynamodb, table):
    """clientMessageId is unique per user, not globally."""
    ada, _ = store.put("general", "user-1", "Ada", "hi", "cm-1")
    bob, duplicate = store.put("general", "user-2", "Bob", "hi", "cm-1")
    assert duplicate is False
    assert ada.message_id != bob.message_id
    assert len(message_items(dynamodb, table)) == 2


def test_put_completes_a_message_whose_claim_was_written_before_a_crash(store, dynamodb, table):
    """A claim left without its message is completed under the claimed id, not a duplicate."""
    claimed_id = str(uuid.uuid4())
    dynamodb.put_item(
        TableName=table,
        Item={
            **keys.dedupe_key("user-1", "cm-crash"),
            "kind": {"S": "dedupe"},
            "messageId": {"S": claimed_id},
            "roomId": {"S": "general"},
            "timestamp": {"N": str(T0)},
            "ttl": {"N": str(T0 // 1000 + DEDUPE_TTL)},
        },
    )
    assert message_items(dynamodb, table) == []

    message, duplicate = store.put("general", "user-1", "Ada", "retried", "cm-crash", T0 + 999)
    assert duplicate is False
    assert message.message_id == claimed_id
    assert message.timestamp == T0
    (item,) = message_items(dynamodb, table)
    assert item["messageId"]["S"] == claimed_id
    assert item["sk"]["S"] == keys.message_sort_key(T0, claimed_id)
    assert item["message"]["S"] == "retried"

    again, duplicate_again = store.put("general", "user-1", "Ada", "retried", "cm-crash")
    assert duplicate_again is True
    assert again.message_id == claimed_id
    assert len(message_items(dynamodb, table)) == 1


# --- history -------------------------------------------------------------------------------------


def test_history_of_an_empty_room_is_empty_with_no_cursor(store):
    """A room without messages answers an empty page and nextBefore None."""
    assert store.history("empty", 50, None) == ([], None)


def test_history_is_oldest_first_whatever_the_order_of_writes(store):
    """Messages come back ordered by timestamp, oldest first."""
    for offset in (3, 1, 4, 0, 2):
        store.put("general", "user-1", "Ada", f"t{offset}", None, now_ms=T0 + offset)
    messages, next_before = store.history("general", 50, None)
    assert [m.message for m in messages] == ["t0", "t1", "t2", "t3", "t4"]
    assert [m.timestamp for m in messages] == [T0, T0 + 1, T0 + 2, T0 + 3, T0 + 4]
    assert next_before is None


def test_history_limit_returns_the_newest_page_with_a_cursor(store):
    """limit 3 of 5 returns the 3 newest, oldest first, and a cursor to the rest."""
    put_many(store, 5)
    messages, next_before = store.history("general", 3, None)
    assert [m.message for m in messages] == ["m2", "m3", "m4"]
    assert next_before == keys.message_sort_key(messages[0].timestamp, messages[0].message_id)
    older, last = store.history("general", 3, next_before)
    assert [m.message for m in older] == ["m0", "m1"]
    assert last is None


def test_history_has_no_cursor_when_the_page_holds_the_oldest_message(store):
    """Exactly ``limit`` messages fit one page: nextBefore is None, no empty page follows."""
    put_many(store, 3)
    messages, next_before = store.history("general", 3, None)
    assert len(messages) == 3
    assert next_before is None


def test_paging_25_messages_by_10_returns_each_once_in_order(store):
    """Pages of 10, 10 and 5 cover all 25 messages once; the last page has no cursor."""
    stored = put_many(store, 25)
    pages = all_pages(store, "general", 10)
    assert [len(p) for p in pages] == [10, 10, 5]
    seen = [m.message_id for page in reversed(pages) for m in page]
    assert seen == [m.message_id for m in stored]
    assert len(set(seen)) == 25


def test_paging_messages_with_the_same_timestamp_never_repeats_or_skips(store):
    """Messages stored in the same millisecond are each paged exactly once."""
    stored = put_many(store, 25, step=0)
    pages = all_pages(store, "general", 4)
    seen = [m.message_id for page in pages for m in page]
    assert sorted(seen) == sorted(m.message_id for m in stored)
    assert len(seen) == 25


def test_history_before_a_cursor_returns_only_older_messages(store):
    """before = a message's sort key returns only messages older than it."""
    stored = put_many(store, 6)
    cursor = keys.message_sort_key(stored[3].timestamp, stored[3].message_id)
    messages, next_before = store.history("general", 50, cursor)
    assert [m.message_id for m in messages] == [m.message_id for m in stored[:3]]
    assert next_before is None


def test_history_reads_only_its_own_room(store):
    """Another room's messages, and dedupe claims, never appear in a room's history."""
    put_many(store, 3, room="a", prefix="a")
    put_many(store, 2, room="b", prefix="b")
    store.put("a", "user-1", "Ada", "claimed", "cm-1", now_ms=T0 + 100)
    messages, _ = store.history("a", 50, None)
    assert [m.message for m in messages] == ["a0", "a1", "a2", "claimed"]
    assert all(m.room_id == "a" for m in messages)


def test_history_returns_messages_with_every_field(store):
    """History messages carry the stored ids, user, text, timestamp and clientMessageId."""
    sent, _ = store.put("general", "user-1", "Ada", "hello", "cm-7", now_ms=T0)
    (message,), _ = store.history("general", 1, None)
    assert message == sent
    assert message.to_wire() == {
        "messageId": sent.message_id,
        "roomId": "general",
        "userId": "user-1",
        "username": "Ada",
        "message": "hello",
        "timestamp": T0,
        "clientMessageId": "cm-7",
    }


def test_history_of_100_messages_with_limit_100_is_one_page(store):
    """The largest page holds 100 messages and says there is no older one."""
    put_many(store, 100)
    messages, next_before = store.history("general", 100, None)
    assert len(messages) == 100
    assert next_before is None
    assert messages[0].message == "m0" and messages[-1].message == "m99"


# --- chats (contract v2) ------------------------------------------------------------------------


class Numbers:
    """A chat's next_seq: 1, 2, 3 … (and how many were taken)."""

    def __init__(self) -> None:
        self.taken = 0

    def __call__(self) -> int:
        self.taken += 1
        return self.taken


def test_a_chat_message_is_numbered_and_stored_in_the_chats_partition(store, dynamodb, table):
    """A message to a chat takes the chat's next seq and lives under chat#{chatId}."""
    numbers = Numbers()
    first, _ = store.put(None, "u-1", "Ada", "hi", None, T0, chat_id="c-1", next_seq=numbers)
    second, _ = store.put(None, "u-1", "Ada", "ho", "x-1", T0 + 1, chat_id="c-1", next_seq=numbers)
    assert (first.seq, second.seq, first.room_id, first.chat_id) == (1, 2, None, "c-1")
    items = [i for i in scan_all(dynamodb, table) if i["pk"]["S"] == "chat#c-1"]
    assert sorted(int(i["seq"]["N"]) for i in items) == [1, 2]
    assert all("roomId" not in i for i in items)
    wire = first.to_wire()
    assert wire["chatId"] == "c-1" and wire["seq"] == 1 and "roomId" not in wire


def test_a_repeated_client_message_id_in_a_chat_takes_no_new_number(store):
    """The repeat answers the original (same seq) and next_seq is not called again."""
    numbers = Numbers()
    first, _ = store.put(None, "u-1", "Ada", "hi", "c-9", T0, chat_id="c-1", next_seq=numbers)
    again, duplicate = store.put(
        None, "u-1", "Ada", "hi", "c-9", T0 + 5, chat_id="c-1", next_seq=numbers
    )
    assert duplicate and again.message_id == first.message_id and again.seq == first.seq == 1
    assert numbers.taken == 1


def test_a_chat_claim_left_without_its_message_is_completed_with_a_number(store, dynamodb, table):
    """A crash between the claim and the message: the repeat writes it, numbered, once."""
    numbers = Numbers()
    store.put(None, "u-1", "Ada", "hi", "c-7", T0, chat_id="c-1", next_seq=numbers)
    for item in scan_all(dynamodb, table):
        if item["pk"]["S"] == "chat#c-1":
            dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
    again, duplicate = store.put(
        None, "u-1", "Ada", "hi", "c-7", T0 + 5, chat_id="c-1", next_seq=numbers
    )
    assert not duplicate and again.chat_id == "c-1" and again.seq == 2
    assert len([i for i in scan_all(dynamodb, table) if i["pk"]["S"] == "chat#c-1"]) == 1


def test_a_chats_history_is_its_own(store):
    """history(chat_id=…) pages a chat's partition only, never a room of the same name."""
    numbers = Numbers()
    store.put("c-1", "u-1", "Ada", "room", None, T0)
    ids = [
        store.put(None, "u-1", "Ada", f"m{n}", None, T0 + n, chat_id="c-1", next_seq=numbers)[0]
        for n in range(3)
    ]
    page, before = store.history(None, 2, None, chat_id="c-1")
    assert [m.message_id for m in page] == [m.message_id for m in ids[1:]] and before
    rest, last = store.history(None, 2, before, chat_id="c-1")
    assert [m.message_id for m in rest] == [ids[0].message_id] and last is None
