"""The Messages table's stream, read with the dynamodbstreams client, feeding the fan-out."""

from __future__ import annotations

import json
import uuid

import pytest

from lambdas.domain import keys
from lambdas.domain.connections import ConnectionStore
from lambdas.domain.fanout import OneAtATime, process_stream_batch
from lambdas.domain.messages import MessageStore
from lambdas.domain.tokens import Identity
from reference_stack.local.events import stream_event
from reference_stack.local.ttl_sweeper import sweep_expired
from tests.functional.helpers import stream_records

T0 = 1_700_000_000_000


@pytest.fixture
def messages_table(make_table):
    return make_table("messages")


@pytest.fixture
def store(dynamodb, messages_table) -> MessageStore:
    return MessageStore(dynamodb, messages_table.name, dedupe_ttl_seconds=60)


def inserted_messages(records):
    return [
        r
        for r in records
        if r["eventName"] == "INSERT" and r["dynamodb"]["NewImage"]["kind"]["S"] == "message"
    ]


class RecordingPoster(OneAtATime):
    def __init__(self):
        self.posts: list[tuple[str, dict]] = []

    def post(self, connection_id, data):
        self.posts.append((connection_id, json.loads(data)))


def test_messages_table_has_a_new_image_stream(dynamodb, streams, messages_table):
    """The table is created with an enabled NEW_IMAGE stream."""
    assert messages_table.stream_arn
    description = streams.describe_stream(StreamArn=messages_table.stream_arn)
    assert description["StreamDescription"]["StreamViewType"] == "NEW_IMAGE"


def test_repeated_client_message_id_streams_exactly_one_message_insert(
    store, streams, messages_table
):
    """A message sent twice with one clientMessageId appears once in the stream."""
    original, _ = store.put("general", "user-1", "Ada", "hi", "cm-1", now_ms=T0)
    _, duplicate = store.put("general", "user-1", "Ada", "hi", "cm-1", now_ms=T0 + 1)
    assert duplicate is True
    records = stream_records(streams, messages_table.stream_arn)
    (insert,) = inserted_messages(records)
    image = insert["dynamodb"]["NewImage"]
    assert image["messageId"]["S"] == original.message_id
    assert image["clientMessageId"]["S"] == "cm-1"
    assert [r["eventName"] for r in records] == ["INSERT", "INSERT"]  # the claim, the message


def test_completed_claim_streams_exactly_one_message_insert(
    dynamodb, store, streams, messages_table
):
    """Recovering a crashed put and repeating it still streams the message once."""
    claimed_id = str(uuid.uuid4())
    dynamodb.put_item(
        TableName=messages_table.name,
        Item={
            **keys.dedupe_key("user-1", "cm-crash"),
            "kind": {"S": "dedupe"},
            "messageId": {"S": claimed_id},
            "roomId": {"S": "general"},
            "timestamp": {"N": str(T0)},
            "ttl": {"N": str(T0 // 1000 + 60)},
        },
    )
    store.put("general", "user-1", "Ada", "hi", "cm-crash")
    store.put("general", "user-1", "Ada", "hi", "cm-crash")
    (insert,) = inserted_messages(stream_records(streams, messages_table.stream_arn))
    assert insert["dynamodb"]["NewImage"]["messageId"]["S"] == claimed_id


def test_stream_batch_fans_out_to_the_room_members(
    dynamodb, store, streams, messages_table, make_table
):
    """Stream records, shaped as Lambda delivers them, reach every member of the room once."""
    connections = ConnectionStore(dynamodb, make_table("connections").name, 3600, 50)
    connections.add("in-1=", Identity("user-1", "Ada", "a@b.co"))
    connections.add("in-2=", Identity("user-2", "Bob", "b@b.co"))
    connections.add("out=", Identity("user-3", "Cy", "c@b.co"))
    for connection_id in ("in-1=", "in-2="):
        connections.join(connection_id, "dev")
    sent, _ = store.put("dev", "user-1", "Ada", "hello dev", "cm-1", now_ms=T0)
    store.put("dev", "user-1", "Ada", "hello dev", "cm-1", now_ms=T0 + 1)

    event = stream_event(
        stream_records(streams, messages_table.stream_arn), messages_table.stream_arn
    )
    poster = RecordingPoster()
    report = process_stream_batch(event["Records"], connections.members, poster, connections.remove)
    assert report.to_response() == {"batchItemFailures": []}
    assert report.messages == 1
    assert sorted(cid for cid, _ in poster.posts) == ["in-1=", "in-2="]
    assert all(frame == {"type": "message", **sent.to_wire()} for _, frame in poster.posts)


def test_ttl_sweep_of_claims_streams_removes_that_are_not_broadcast(
    dynamodb, store, streams, messages_table
):
    """Expired dedupe claims are deleted as REMOVE records, which the fan-out ignores."""
    store.put("general", "user-1", "Ada", "hi", "cm-1", now_ms=T0)
    deleted = sweep_expired(dynamodb, messages_table.name, "ttl", now=T0 / 1000 + 61)
    assert deleted == 1
    records = stream_records(streams, messages_table.stream_arn)
    assert [r["eventName"] for r in records] == ["INSERT", "INSERT", "REMOVE"]
    poster = RecordingPoster()
    report = process_stream_batch(records[2:], lambda room: ["x="], poster, lambda *a: None)
    assert poster.posts == []
    assert report.messages == 0
