"""The delivery books and the verdict, as pure code (no Locust, no sockets)."""

from __future__ import annotations

from loadtests.metrics import Delivery, Ledger, Receipts, percentile
from loadtests.thresholds import Measured, Thresholds, judge, passed, render_table

GRACE = 2.0


def books(*receipts: Receipts, closed_at: float) -> Delivery:
    ledger = Ledger(GRACE)
    for node, r in enumerate(receipts):
        r.close(closed_at)
        ledger.add(str(node), r.take())
    ledger.close(closed_at)
    return ledger.tally()


def test_every_member_at_send_time_owes_a_delivery() -> None:
    """Three members joined before the send; two received: one is missing."""
    r = Receipts(GRACE)
    for member in (1, 2, 3):
        r.joined(member, "room", 10.0)
    r.sent("m1", "room", 20.0)
    r.received(1, "room", "m1", 20.0)
    r.received(2, "room", "m1", 20.0)
    delivery = books(r, closed_at=30.0)
    assert (delivery.expected, delivery.received, delivery.missing) == (3, 2, 1)
    assert delivery.ratio == 2 / 3
    assert delivery.worst[0]["key"] == "m1"


def test_a_member_who_joins_after_the_send_is_neither_expected_nor_counted() -> None:
    """Joining (ack) after the send: the broadcast may arrive, but it is not owed."""
    r = Receipts(GRACE)
    r.joined(1, "room", 10.0)
    r.sent("m1", "room", 20.0)
    r.joined(2, "room", 20.5)
    r.received(1, "room", "m1", 20.0)
    r.received(2, "room", "m1", 20.0)
    delivery = books(r, closed_at=30.0)
    assert (delivery.expected, delivery.received, delivery.missing, delivery.extra) == (1, 1, 0, 0)


def test_a_member_leaving_within_the_grace_is_neither_expected_nor_counted() -> None:
    """Left 1 s after the send (grace 2 s): whether it got the message or not, no verdict."""
    r = Receipts(GRACE)
    for member in (1, 2, 3):
        r.joined(member, "room", 10.0)
    r.sent("m1", "room", 20.0)
    r.received(2, "room", "m1", 20.0)  # got it, then left
    r.left(2, "room", 21.0)
    r.left(3, "room", 21.0)  # left without it
    r.received(1, "room", "m1", 20.0)
    delivery = books(r, closed_at=30.0)
    assert (delivery.expected, delivery.received, delivery.missing) == (1, 1, 0)


def test_a_member_leaving_after_the_grace_still_owed_the_delivery() -> None:
    """Left 3 s after the send without it (grace 2 s): missing."""
    r = Receipts(GRACE)
    r.joined(1, "room", 10.0)
    r.joined(2, "room", 10.0)
    r.sent("m1", "room", 20.0)
    r.received(1, "room", "m1", 20.0)
    r.settle(21.0)  # not yet decidable
    r.left(2, "room", 23.0)
    delivery = books(r, closed_at=30.0)
    assert (delivery.expected, delivery.received, delivery.missing) == (2, 1, 1)


def test_messages_sent_within_the_grace_before_the_books_close_are_not_judged() -> None:
    """The books close 1 s after a send: every member 'leaves' within the grace."""
    r = Receipts(GRACE)
    r.joined(1, "room", 10.0)
    r.sent("m1", "room", 29.0)
    delivery = books(r, closed_at=30.0)
    assert (delivery.expected, delivery.missing) == (0, 0)


def test_a_repeat_on_one_connection_is_a_duplicate_not_a_second_delivery() -> None:
    r = Receipts(GRACE)
    r.joined(1, "room", 10.0)
    r.sent("m1", "room", 20.0)
    assert r.received(1, "room", "m1", 20.0) is True
    assert r.received(1, "room", "m1", 20.0) is False
    delivery = books(r, closed_at=30.0)
    assert (delivery.expected, delivery.received, delivery.duplicates) == (1, 1, 1)


def test_books_of_several_processes_merge_by_message() -> None:
    """A sender in one process, receivers in two: the master's ledger joins them up."""
    sender, other = Receipts(GRACE), Receipts(GRACE)
    sender.joined(1, "room", 10.0)
    other.joined(1, "room", 10.0)  # the same member number in another process: another member
    other.joined(2, "room", 10.0)
    sender.sent("m1", "room", 20.0)
    for r, member in ((sender, 1), (other, 1), (other, 2)):
        r.received(member, "room", "m1", 20.0)
    delivery = books(sender, other, closed_at=30.0)
    assert (delivery.messages, delivery.expected, delivery.received) == (1, 3, 3)


def test_deltas_are_handed_out_once_and_rooms_stay_apart() -> None:
    r = Receipts(GRACE)
    r.joined(1, "a", 10.0)
    r.joined(2, "b", 10.0)
    r.sent("m1", "a", 20.0)
    r.received(1, "a", "m1", 20.0)
    r.settle(25.0)
    ledger = Ledger(GRACE)
    ledger.add("0", r.take())
    assert r.take()["counted"] == {}
    delivery = ledger.tally(cutoff=25.0)
    assert (delivery.expected, delivery.received) == (1, 1)  # b's member owed nothing


def test_a_tally_window_selects_messages_by_send_time() -> None:
    r = Receipts(GRACE)
    r.joined(1, "room", 0.0)
    for second in range(10):
        r.sent(f"m{second}", "room", float(second))
        r.received(1, "room", f"m{second}", float(second))
    r.close(20.0)
    ledger = Ledger(GRACE)
    ledger.add("0", r.take())
    ledger.close(20.0)
    assert ledger.tally(since=3.0, until=6.0).messages == 3


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 95) is None
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert percentile(list(map(float, range(1, 101))), 95) == 95.0


def test_thresholds_judge_each_claim_and_no_data_is_never_a_pass() -> None:
    limits = Thresholds()
    good = Measured(
        send_p95_ms=40,
        sends=10,
        broadcast_p95_ms=150,
        broadcasts=100,
        operations=1000,
        failures=0,
        delivery=Delivery(messages=10, expected=100, received=100),
    )
    assert passed(judge(limits, good))
    slow = Measured(**{**vars(good), "broadcast_p95_ms": 250})
    verdicts = {c.name: c.verdict for c in judge(limits, slow)}
    assert verdicts["broadcast latency p95"] == "FAIL" and not passed(judge(limits, slow))
    lossy = Measured(**{**vars(good), "delivery": Delivery(expected=100, received=99, missing=1)})
    assert not passed(judge(limits, lossy))
    erring = Measured(**{**vars(good), "failures": 1})  # 0.1 % is not below 0.1 %
    assert not passed(judge(limits, erring))
    assert not passed(judge(limits, Measured()))
    table = render_table("title", judge(limits, slow))
    assert "broadcast latency p95" in table and table.endswith("verdict: FAIL")
