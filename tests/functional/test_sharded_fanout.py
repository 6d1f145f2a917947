"""Sharded fan-out (lambdas/domain/sharded_fanout.py) against moto's DynamoDB and the tiny
@connections server: every recipient of a large room gets a message exactly once, whatever
happens to a shard — dispatched twice, not dispatched, failing, or with unreachable recipients.

"Lambda" here is ``run_like_lambda``: each queued event is handled in turn, a handler that
raises is retried twice, as Lambda does with asynchronous invocations.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from lambdas.contract.frames import Message
from lambdas.domain import keys
from lambdas.domain.connections import DEFAULT_ROOM, ConnectionStore
from lambdas.domain.dispatch import DispatchFailed
from lambdas.domain.fanout import fan_out
from lambdas.domain.shard_claims import ShardBusy, ShardClaims
from lambdas.domain.sharded_fanout import ShardRouter, deliver_shard
from lambdas.domain.shards import Shard
from lambdas.domain.tokens import Identity
from tests.functional.connections_api import SICK_FAILURES, poster_for

MESSAGE = Message("m-1", DEFAULT_ROOM, "u-1", "Ada", "hello", 1_700_000_000_000, None)
OK = [f"ok-{n}=" for n in range(10)]


class QueueDispatcher:
    """Queues shard events; the keys in ``refuse`` are refused (and queued anyway when
    ``accepted_anyway``: the call failed after Lambda had taken the event)."""

    def __init__(self, refuse: tuple[str, ...] = (), accepted_anyway: bool = False) -> None:
        self.events: list[dict[str, Any]] = []
        self.refuse = refuse
        self.accepted_anyway = accepted_anyway

    def dispatch(self, event: dict[str, Any]) -> None:
        if event["shard"] in self.refuse:
            if self.accepted_anyway:
                self.events.append(event)
            raise DispatchFailed("refused")
        self.events.append(event)


def run_like_lambda(queue: QueueDispatcher, handle: Callable[[dict[str, Any]], Any]) -> int:
    """Handle every queued event (and those queued meanwhile); returns the invocations made."""
    invocations = 0
    while queue.events:
        event = queue.events.pop(0)
        for _ in range(3):
            invocations += 1
            try:
                handle(event)
                break
            except Exception:
                continue
    return invocations


@pytest.fixture
def table(make_table) -> str:
    return make_table("connections").name


@pytest.fixture
def store(dynamodb, table) -> ConnectionStore:
    return ConnectionStore(dynamodb, table, ttl_seconds=3600, max_rooms=50)


@pytest.fixture
def claims(dynamodb, table) -> ShardClaims:
    return ShardClaims(dynamodb, table)


@pytest.fixture(params=["boto3", "signed"])
def poster(request, api):
    return poster_for(f"{api.url}/dev", request.param)


def posts(received) -> Counter[str]:
    return Counter(r.path.rsplit("/", 1)[-1] for r in received)


def shard_handler(poster, claims, store, queue, max_attempts=3, claims_for_shards=None):
    def handle(event: dict[str, Any]) -> Any:
        return deliver_shard(
            Shard.from_event(event),
            poster,
            claims_for_shards or claims,
            store.remove,
            queue,
            max_attempts,
            30.0,
        )

    return handle


def router(queue, claims, store, threshold=4, size=3) -> ShardRouter:
    return ShardRouter(queue, claims, store.remove, threshold, size, 3, lambda: 30.0)


def test_every_recipient_of_a_large_room_gets_the_message_once(poster, claims, store, received):
    queue = QueueDispatcher()
    report = fan_out(MESSAGE, OK, poster, store.remove, router(queue, claims, store))
    assert report.shards == 4 and report.delivered == 0
    assert received == []  # the broadcaster posted nothing itself
    assert [len(e["connectionIds"]) for e in queue.events] == [3, 3, 3, 1]
    run_like_lambda(queue, shard_handler(poster, claims, store, queue))
    assert posts(received) == Counter(OK)


def test_a_small_room_is_posted_by_the_broadcaster(poster, claims, store, received):
    queue = QueueDispatcher()
    report = fan_out(MESSAGE, OK[:4], poster, store.remove, router(queue, claims, store))
    assert (report.shards, report.delivered, queue.events) == (0, 4, [])
    assert posts(received) == Counter(OK[:4])


def test_a_shard_invoked_twice_posts_once(poster, claims, store, received):
    queue = QueueDispatcher()
    fan_out(MESSAGE, OK, poster, store.remove, router(queue, claims, store))
    queue.events += [dict(e) for e in queue.events]  # Lambda delivers each event twice
    run_like_lambda(queue, shard_handler(poster, claims, store, queue))
    assert posts(received) == Counter(OK)


@pytest.mark.parametrize("accepted_anyway", [False, True])
def test_a_shard_that_cannot_be_dispatched_is_delivered_by_the_broadcaster(
    poster, claims, store, received, accepted_anyway
):
    """The broadcaster delivers a refused shard itself; if the refused event did reach the
    fan-out function after all, that invocation finds the shard done."""
    queue = QueueDispatcher(refuse=("0001",), accepted_anyway=accepted_anyway)
    report = fan_out(MESSAGE, OK, poster, store.remove, router(queue, claims, store))
    assert report.delivered == 3  # shard 0001, posted by the broadcaster
    assert posts(received) == Counter(OK[3:6])
    run_like_lambda(queue, shard_handler(poster, claims, store, queue))
    assert posts(received) == Counter(OK)


class FailingOnce:
    """Claims whose first ``claim`` fails as DynamoDB might (the invocation errors)."""

    def __init__(self, claims: ShardClaims) -> None:
        self._claims = claims
        self.failed = False

    def claim(self, shard: Shard, lease_seconds: float) -> bool:
        if not self.failed:
            self.failed = True
            raise ConnectionError("DynamoDB unreachable")
        return self._claims.claim(shard, lease_seconds)

    def finish(self, shard: Shard) -> None:
        self._claims.finish(shard)


def test_a_failed_shard_invocation_is_retried_and_delivers_once(poster, claims, store, received):
    queue = QueueDispatcher()
    fan_out(MESSAGE, OK, poster, store.remove, router(queue, claims, store))
    flaky = FailingOnce(claims)
    handle = shard_handler(poster, claims, store, queue, claims_for_shards=flaky)
    assert run_like_lambda(queue, handle) == 5  # four shards, one of them twice
    assert flaky.failed
    assert posts(received) == Counter(OK)


def test_recipients_a_shard_cannot_reach_are_retried_alone(api, claims, store, received):
    """A recipient failing twice is retried in shards of its own until the third attempt
    reaches it; the others are never posted again."""
    poster = poster_for(f"{api.url}/dev", "signed", attempts=1)
    recipients = [*OK[:5], "sick-1="]
    queue = QueueDispatcher()
    fan_out(MESSAGE, recipients, poster, store.remove, router(queue, claims, store))
    run_like_lambda(queue, shard_handler(poster, claims, store, queue, max_attempts=3))
    assert posts(received) == Counter({**dict.fromkeys(OK[:5], 1), "sick-1=": SICK_FAILURES + 1})


def test_after_the_last_attempt_an_undelivered_recipient_is_logged(
    api, claims, store, received, caplog
):
    poster = poster_for(f"{api.url}/dev", "signed", attempts=1)
    queue = QueueDispatcher()
    fan_out(MESSAGE, [*OK[:4], "boom-1="], poster, store.remove, router(queue, claims, store))
    with caplog.at_level(logging.ERROR, logger="chatstack.fanout"):
        run_like_lambda(queue, shard_handler(poster, claims, store, queue, max_attempts=2))
    assert posts(received) == Counter({**dict.fromkeys(OK[:4], 1), "boom-1=": 2})
    failures = [r for r in caplog.records if r.getMessage() == "delivery failed"]
    assert [(r.connection_id, r.message_id, r.attempt) for r in failures] == [("boom-1=", "m-1", 2)]


def test_a_gone_recipient_in_a_shard_is_removed(dynamodb, table, poster, claims, store, received):
    ada = Identity("user-ada", "Ada", "ada@example.com")
    store.add("gone-7=", ada)
    assert "gone-7=" in set(store.members(DEFAULT_ROOM))
    queue = QueueDispatcher()
    fan_out(MESSAGE, [*OK, "gone-7="], poster, store.remove, router(queue, claims, store))
    run_like_lambda(queue, shard_handler(poster, claims, store, queue))
    assert posts(received) == Counter([*OK, "gone-7="])
    assert "gone-7=" not in set(store.members(DEFAULT_ROOM))
    key = keys.connection_key("gone-7=")
    assert "Item" not in dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)


def test_a_claim_is_busy_while_leased_taken_over_when_the_lease_ran_out_and_final_when_done(
    claims,
):
    shard = Shard("m-2", "room", "0000", 1, ("ok-1=",), "{}")
    assert claims.claim(shard, lease_seconds=60, now=1000.0)
    with pytest.raises(ShardBusy):
        claims.claim(shard, lease_seconds=60, now=1030.0)
    assert claims.claim(shard, lease_seconds=60, now=1061.0)  # the first claimant crashed
    claims.finish(shard, now=1070.0)
    assert not claims.claim(shard, lease_seconds=60, now=5000.0)


def test_a_shard_retried_inline_reports_every_recipient_once(api, claims, store, received):
    """A shard whose retry is delivered in the same invocation reports the retry's outcome
    too: every recipient is counted once, delivered, gone or failed."""
    poster = poster_for(f"{api.url}/dev", "signed", attempts=1)
    recipients = ("ok-r1=", "ok-r2=", "sick-r3=", "gone-r4=")
    shard = Shard("m-9", DEFAULT_ROOM, "0000", 1, recipients, "{}")
    report = deliver_shard(shard, poster, claims, store.remove, None, 3, 30.0)
    assert (report.delivered, report.gone, report.failed, report.retried) == (3, 1, 0, 0)


def test_a_shard_the_broadcaster_delivers_itself_reports_gone_and_failed(
    api, claims, store, received
):
    """A shard the broadcaster could not hand off, posted by itself, adds all its counts
    (delivered, gone, failed) to the broadcaster's report, not only the delivered."""
    poster = poster_for(f"{api.url}/dev", "signed", attempts=1)
    recipients = [*OK[:3], "gone-s1=", "boom-s2="]
    queue = QueueDispatcher(refuse=("0000", "0001"))
    report = fan_out(MESSAGE, recipients, poster, store.remove, router(queue, claims, store))
    assert (report.shards, report.delivered, report.gone) == (0, 3, 1)
    assert report.failed + report.retried == 1
