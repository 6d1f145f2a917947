"""Fan-out of stream batches (lambdas/domain/fanout.py) with a fake Poster."""

from __future__ import annotations

import json

import pytest

from lambdas.contract.frames import Message, encode, message_frame
from lambdas.domain.fanout import (
    ConnectionGone,
    DeliveryFailed,
    OneAtATime,
    fan_out,
    process_stream_batch,
)
from lambdas.domain.messages import message_item


class FakePoster(OneAtATime):
    """Records every post; answers Gone or Failed for chosen connection ids."""

    def __init__(self, gone=(), failing=(), crashing=()):
        self.posts: list[tuple[str, bytes]] = []
        self.gone, self.failing, self.crashing = set(gone), set(failing), set(crashing)

    def post(self, connection_id: str, data: bytes) -> None:
        self.posts.append((connection_id, data))
        if connection_id in self.gone:
            raise ConnectionGone(connection_id)
        if connection_id in self.failing:
            raise DeliveryFailed(connection_id)
        if connection_id in self.crashing:
            raise RuntimeError("unexpected")

    def recipients(self) -> list[str]:
        return [connection_id for connection_id, _ in self.posts]


class Removals:
    """A remove_connection callable that records (id, room) calls and may fail for some ids."""

    def __init__(self, failing=()):
        self.calls: list[tuple[str, str]] = []
        self.failing = set(failing)

    def __call__(self, connection_id: str, room_id: str) -> None:
        self.calls.append((connection_id, room_id))
        if connection_id in self.failing:
            raise RuntimeError("dynamodb down")


def make_message(n: int = 1, room: str = "general", client_message_id: str | None = None):
    return Message(
        message_id=f"m-{n}",
        room_id=room,
        user_id="u-1",
        username="Ada",
        message=f"hello {n} é😀",
        timestamp=1_700_000_000_000 + n,
        client_message_id=client_message_id,
    )


def record(seq: str, image: dict | None, event_name: str = "INSERT") -> dict:
    dynamodb = {"SequenceNumber": seq, "Keys": {}, "StreamViewType": "NEW_IMAGE"}
    if image is not None:
        dynamodb["NewImage"] = image
    return {"eventName": event_name, "eventSource": "aws:dynamodb", "dynamodb": dynamodb}


def message_record(seq: str, message: Message) -> dict:
    return record(seq, message_item(message))


def dedupe_record(seq: str) -> dict:
    return record(
        seq,
        {
            "pk": {"S": "dedupe#u-1#c-1"},
            "sk": {"S": "claim"},
            "kind": {"S": "dedupe"},
            "messageId": {"S": "m-x"},
            "roomId": {"S": "general"},
            "timestamp": {"N": "1"},
        },
    )


# --- fan_out -------------------------------------------------------------------------------------


def test_fan_out_sends_every_recipient_the_exact_broadcast_frame():
    """Each member receives the UTF-8 encoding of the message frame, once."""
    message = make_message(client_message_id="c-9")
    poster = FakePoster()
    report = fan_out(message, ["a", "b", "c"], poster, Removals())
    assert poster.recipients() == ["a", "b", "c"]
    expected = encode(message_frame(message)).encode("utf-8")
    assert all(data == expected for _, data in poster.posts)
    frame = json.loads(poster.posts[0][1])
    assert frame == {
        "type": "message",
        "messageId": "m-1",
        "roomId": "general",
        "userId": "u-1",
        "username": "Ada",
        "message": "hello 1 é😀",
        "timestamp": 1_700_000_000_001,
        "clientMessageId": "c-9",
    }
    assert (report.delivered, report.gone, report.failed) == (3, 0, 0)


def test_fan_out_removes_a_gone_connection_and_delivers_to_the_rest():
    """A 410 recipient is removed, naming the message's room; later recipients still get it."""
    poster, removals = FakePoster(gone={"b"}), Removals()
    report = fan_out(make_message(room="dev"), ["a", "b", "c"], poster, removals)
    assert poster.recipients() == ["a", "b", "c"]
    assert removals.calls == [("b", "dev")]
    assert (report.delivered, report.gone) == (2, 1)


def test_fan_out_goes_on_after_a_failed_delivery():
    """A recipient whose delivery fails does not block later ones and is not removed."""
    poster, removals = FakePoster(failing={"a"}, crashing={"b"}), Removals()
    report = fan_out(make_message(), ["a", "b", "c", "d"], poster, removals)
    assert poster.recipients() == ["a", "b", "c", "d"]
    assert (report.delivered, report.failed) == (2, 2)
    assert removals.calls == []


def test_fan_out_goes_on_when_removing_a_gone_connection_fails():
    """A failing removal of a gone connection is logged, and delivery continues."""
    poster, removals = FakePoster(gone={"a", "c"}), Removals(failing={"a"})
    report = fan_out(make_message(), ["a", "b", "c", "d"], poster, removals)
    assert poster.recipients() == ["a", "b", "c", "d"]
    assert removals.calls == [("a", "general"), ("c", "general")]
    assert (report.delivered, report.gone) == (2, 2)


def test_fan_out_to_nobody_posts_nothing():
    """A room without members costs no posts."""
    poster = FakePoster()
    report = fan_out(make_message(), [], poster, Removals())
    assert poster.posts == []
    assert report.delivered == 0


# --- process_stream_batch ------------------------------------------------------------------------


def test_batch_skips_records_that_are_not_new_messages():
    """REMOVE, MODIFY, dedupe claims and records without an image are not broadcast."""
    message = make_message()
    records = [
        record("1", message_item(message), event_name="REMOVE"),
        record("2", message_item(message), event_name="MODIFY"),
        dedupe_record("3"),
        record("4", None),
        record("5", {**message_item(message), "kind": {"S": "other"}}),
    ]
    poster = FakePoster()
    members = []
    report = process_stream_batch(
        records, lambda room: members.append(room) or ["a"], poster, Removals()
    )
    assert poster.posts == []
    assert members == []
    assert report.messages == 0
    assert report.to_response() == {"batchItemFailures": []}


def test_batch_delivers_each_message_to_the_members_of_its_own_room():
    """Every message goes to exactly the members of its room, in stream order."""
    rooms = {"general": ["g1", "g2"], "dev": ["d1"]}
    first, second = make_message(1, "general"), make_message(2, "dev")
    records = [message_record("10", first), dedupe_record("11"), message_record("12", second)]
    poster = FakePoster()
    report = process_stream_batch(records, lambda room: iter(rooms[room]), poster, Removals())
    delivered = [(cid, json.loads(data)["messageId"]) for cid, data in poster.posts]
    assert delivered == [("g1", "m-1"), ("g2", "m-1"), ("d1", "m-2")]
    assert (report.messages, report.delivered, report.gone, report.failed) == (2, 3, 0, 0)
    assert report.to_response() == {"batchItemFailures": []}


def test_batch_counts_gone_and_failed_recipients_without_reporting_item_failures():
    """Recipient failures are counted but never make the record a batch item failure."""
    poster, removals = FakePoster(gone={"x"}, failing={"y"}), Removals()
    records = [message_record("1", make_message(1)), message_record("2", make_message(2))]
    report = process_stream_batch(records, lambda room: ["x", "y", "z"], poster, removals)
    assert (report.messages, report.delivered, report.gone, report.failed) == (2, 2, 2, 2)
    assert removals.calls == [("x", "general"), ("x", "general")]
    assert report.batch_item_failures == []


@pytest.mark.parametrize("fail_on_call", [1, 2, 3])
def test_batch_stops_at_a_record_whose_members_cannot_be_read(fail_on_call):
    """The failing record is reported by SequenceNumber; earlier ones went out, later did not."""
    messages = [make_message(n, f"room-{n}") for n in (1, 2, 3)]
    records = [message_record(f"seq-{m.message_id}", m) for m in messages]
    records.insert(1, dedupe_record("seq-claim"))
    calls = []

    def members_of(room):
        calls.append(room)
        if len(calls) == fail_on_call:
            raise RuntimeError("query failed")
        return ["a", "b"]

    poster = FakePoster()
    report = process_stream_batch(records, members_of, poster, Removals())
    failed = messages[fail_on_call - 1]
    assert report.to_response() == {
        "batchItemFailures": [{"itemIdentifier": f"seq-{failed.message_id}"}]
    }
    assert len(calls) == fail_on_call
    sent_ids = {json.loads(data)["messageId"] for _, data in poster.posts}
    assert sent_ids == {m.message_id for m in messages[: fail_on_call - 1]}
    assert report.messages == fail_on_call - 1
    assert report.delivered == 2 * (fail_on_call - 1)


def test_batch_reads_each_rooms_members_once():
    """Several messages of one room in a batch cost one read of its members, and each message
    still reaches every member of its own room."""
    rooms = {"general": ["g1", "g2"], "dev": ["d1"]}
    reads: list[str] = []

    def members_of(room):
        reads.append(room)
        return iter(rooms[room])

    messages = [make_message(n, room) for n, room in enumerate(["general", "dev", "general"] * 2)]
    records = [message_record(str(n), m) for n, m in enumerate(messages)]
    poster = FakePoster()
    report = process_stream_batch(records, members_of, poster, Removals())
    assert sorted(reads) == ["dev", "general"]
    delivered = [(cid, json.loads(data)["messageId"]) for cid, data in poster.posts]
    expected = [(cid, m.message_id) for m in messages for cid in rooms[m.room_id]]
    assert delivered == expected
    assert (report.messages, report.delivered) == (6, 10)


def test_batch_reports_a_failure_raised_while_paging_members():
    """members_of failing mid-iteration (a later page) still fails that record, not the batch."""

    def members_of(room):
        yield "a"
        raise RuntimeError("second page failed")

    poster = FakePoster()
    records = [message_record("s1", make_message(1))]
    report = process_stream_batch(records, members_of, poster, Removals())
    assert report.batch_item_failures == [{"itemIdentifier": "s1"}]
    assert poster.posts == []


def test_batch_broadcast_round_trips_a_message_without_client_message_id():
    """A stored message without clientMessageId is broadcast with clientMessageId null."""
    poster = FakePoster()
    process_stream_batch([message_record("1", make_message())], lambda r: ["a"], poster, Removals())
    assert json.loads(poster.posts[0][1])["clientMessageId"] is None


def test_empty_batch_reports_nothing():
    """An empty batch is a success with no work done."""
    report = process_stream_batch([], lambda r: ["a"], FakePoster(), Removals())
    assert report.to_response() == {"batchItemFailures": []}
    assert report.messages == 0


def test_batch_reports_a_record_whose_fan_out_raises_and_stops_there():
    """A fan-out that raises unexpectedly fails its own record only: the records before it are
    not retried (so never delivered twice) and the batch does not fail as a whole."""

    class Exploding(FakePoster):
        def deliver(self, connection_ids, data, deadline=None):
            if json.loads(data)["messageId"] == "m-2":
                raise ValueError("invalid literal for int() with base 10: b'2OO'")
            return super().deliver(connection_ids, data, deadline)

    poster = Exploding()
    records = [message_record(f"s{n}", make_message(n)) for n in (1, 2, 3)]
    report = process_stream_batch(records, lambda room: ["a"], poster, Removals())
    assert report.batch_item_failures == [{"itemIdentifier": "s2"}]
    assert [json.loads(data)["messageId"] for _, data in poster.posts] == ["m-1"]
    assert (report.messages, report.delivered) == (1, 1)


def test_delivery_reports_add_up_every_count():
    """A batch's report is the sum of its messages' reports, every count included."""
    from lambdas.domain.fanout import DeliveryReport

    total = DeliveryReport(messages=1, delivered=2, gone=1)
    total.add(DeliveryReport(delivered=3, failed=2, retried=1, shards=4, skipped=1))
    assert total.counts() == {
        "messages": 1,
        "delivered": 5,
        "gone": 1,
        "failed": 2,
        "retried": 1,
        "shards": 4,
        "skipped": 1,
    }
