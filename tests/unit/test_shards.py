"""Planning a large room's shards, and reading shard events (pure)."""

from __future__ import annotations

import json

import pytest

from lambdas.domain.shards import MAX_EVENT_BYTES, Shard, ShardEventInvalid, plan

IDS = [f"c{n:03d}=" for n in range(10)]


def test_at_or_below_the_threshold_nothing_is_sharded():
    assert plan("m", "r", "{}", IDS, threshold=10, size=3) == []
    assert plan("m", "r", "{}", [], threshold=0, size=3) == []


def test_above_the_threshold_recipients_are_split_in_order_into_disjoint_shards():
    shards = plan("m", "r", '{"x":1}', IDS, threshold=9, size=3)
    assert [s.key for s in shards] == ["0000", "0001", "0002", "0003"]
    assert [len(s.connection_ids) for s in shards] == [3, 3, 3, 1]
    assert [i for s in shards for i in s.connection_ids] == IDS  # each exactly once, in order
    assert all(s.attempt == 1 and s.message_id == "m" and s.room_id == "r" for s in shards)
    assert all(s.data == '{"x":1}' for s in shards)


def test_a_shard_size_below_one_is_refused():
    with pytest.raises(ValueError):
        plan("m", "r", "{}", IDS, threshold=0, size=0)


def test_shards_of_a_large_frame_stay_under_the_async_payload_limit():
    """A 4,000-character message escaped to ~24 KB still leaves every event below the limit."""
    data = json.dumps({"message": "\u2603" * 4000})
    ids = [f"{n:0128d}" for n in range(5000)]
    shards = plan("m", "r", data, ids, threshold=0, size=5000)
    assert len(shards) > 1
    assert [i for s in shards for i in s.connection_ids] == ids
    for shard in shards:
        assert len(json.dumps(shard.to_event())) <= MAX_EVENT_BYTES


def test_an_event_round_trips():
    shard = Shard("m-1", "room", "0002", 1, ("a=", "b="), '{"type":"message"}')
    assert Shard.from_event(json.loads(json.dumps(shard.to_event()))) == shard


def test_a_retry_carries_only_the_given_recipients_under_the_next_attempt_key():
    shard = Shard("m-1", "room", "0002", 1, ("a=", "b=", "c="), "{}")
    retry = shard.retry(["b="])
    assert (retry.key, retry.attempt, retry.connection_ids) == ("0002.2", 2, ("b=",))
    assert retry.retry(["b="]).key == "0002.3"
    assert (retry.message_id, retry.room_id, retry.data) == ("m-1", "room", "{}")


VALID = Shard("m", "r", "0", 1, ("a",), "{}").to_event()


@pytest.mark.parametrize(
    "event",
    [
        None,
        [],
        {},
        {**VALID, "kind": "other"},
        {k: v for k, v in VALID.items() if k != "data"},
        {**VALID, "messageId": ""},
        {**VALID, "attempt": 0},
        {**VALID, "attempt": True},
        {**VALID, "connectionIds": []},
        {**VALID, "connectionIds": ["a", 3]},
        {**VALID, "connectionIds": "a"},
    ],
)
def test_malformed_events_are_refused(event):
    with pytest.raises(ShardEventInvalid):
        Shard.from_event(event)


def test_the_valid_base_event_is_accepted():
    assert Shard.from_event(VALID).connection_ids == ("a",)
