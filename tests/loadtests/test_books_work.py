"""The delivery books do constant work per delivery, however many members and messages.

Measured by counting, never by timing: the lines of ``loadtests/metrics.py`` executed (a trace
function), and the objects the garbage collector tracks while receipts wait for settlement. A
cost that grows with members × messages — a scan of the pending receipts or of the room's
members per message, a rebuild per settle, an object per receipt held for the grace — makes the
work per delivery of the larger run grow, and fails these tests.
"""

from __future__ import annotations

import gc
import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from loadtests import metrics
from loadtests.metrics import Ledger, Receipts, _owed

GRACE = 2.0


@contextmanager
def counting_lines(module: Any) -> Iterator[list[int]]:
    """Count the lines of ``module`` executed inside the block (loops count every pass)."""
    filename = module.__file__
    count = [0]

    def local(frame: FrameType, event: str, _arg: Any) -> Any:
        if event == "line":
            count[0] += 1
        return local

    def global_(frame: FrameType, _event: str, _arg: Any) -> Any:
        return local if frame.f_code.co_filename == filename else None

    sys.settrace(global_)
    try:
        yield count
    finally:
        sys.settrace(None)


def run_books(members: int, messages: int) -> int:
    """A room stepped up while it talks, with churn, through one process's books and the
    ledger: returns the deliveries; every member present receives every message."""
    rng = random.Random(members * 7919 + messages)
    receipts, ledger = Receipts(GRACE), Ledger(GRACE)
    present: set[int] = set()
    deliveries, now = 0, 0.0
    for seq in range(messages):
        now += 0.25
        for member in range(seq * members // messages, (seq + 1) * members // messages):
            receipts.joined(member, "room", now)  # joining while the room talks
            present.add(member)
        if seq % 4 == 0 and present:  # churn: someone leaves, someone new comes in
            gone = rng.choice(sorted(present))
            receipts.left(gone, "room", now)
            present.discard(gone)
            receipts.joined(members + seq, "room", now)
            present.add(members + seq)
        key = f"m{seq}"
        receipts.sent(key, "room", now)
        for member in present:
            receipts.received(member, "room", key, now)
            deliveries += 1
        if seq % 4 == 3:
            receipts.settle(now)
            ledger.add("0", receipts.take())
    receipts.close(now + 10)
    ledger.add("0", receipts.take())
    ledger.close(now + 10)
    tally = ledger.tally()
    assert tally.missing == 0 and tally.messages == messages
    return deliveries


def lines_per_delivery(members: int, messages: int) -> float:
    with counting_lines(metrics) as count:
        deliveries = run_books(members, messages)
    return count[0] / deliveries


def test_the_books_do_constant_work_per_delivery_as_members_and_messages_grow() -> None:
    """8x the members, 8x the messages, or both: no more lines executed per delivery."""
    base = lines_per_delivery(members=40, messages=40)
    for members, messages in ((320, 40), (40, 320), (320, 320)):
        grown = lines_per_delivery(members, messages)
        assert grown <= base * 1.05, (
            f"{members} members x {messages} messages: {grown:.1f} lines per delivery "
            f"(40 x 40: {base:.1f})"
        )


def test_receipts_waiting_for_settlement_create_no_object_per_delivery() -> None:
    """Receipts held for the grace add objects per message, none per delivery."""
    receipts = Receipts(GRACE)
    members, messages = 500, 20
    for member in range(members):
        receipts.joined(member, "room", 1.0)
    keys = [f"m{seq}" for seq in range(messages)]
    gc.collect()
    gc.disable()  # a collection would untrack some tuples and hide them from the count
    try:
        before = len(gc.get_objects())
        for key in keys:
            receipts.sent(key, "room", 2.0)
            for member in range(members):
                receipts.received(member, "room", key, 2.0)
        added = len(gc.get_objects()) - before
    finally:
        gc.enable()
    assert added <= 10 * messages, f"{added} objects for {members * messages} deliveries"
    receipts.settle(10.0)
    assert receipts.take()["counted"] == dict.fromkeys(keys, members)


def test_owed_counts_match_the_rule_for_every_send() -> None:
    """The sweep counts exactly the spans with join <= t and leave >= t + grace."""
    rng = random.Random(21)
    spans = []
    for _ in range(300):
        join = rng.uniform(0, 100)
        spans.append((join, join + rng.choice([rng.uniform(0, 3), rng.uniform(0, 60)])))
    times = sorted([*(rng.uniform(0, 110) for _ in range(200)), spans[0][0], spans[1][1] - GRACE])
    expected = [sum(1 for j, le in spans if j <= t and le >= t + GRACE) for t in times]
    assert _owed(spans, times, GRACE) == expected
