"""Delivery accounting: deliveries expected (room members when a message was sent) vs received.

Pure bookkeeping — no sockets, no locust, no gevent — so it runs and is tested anywhere.

Every load-generating process keeps a :class:`Receipts`; the process that judges the run (the
master, or the only process) keeps a :class:`Ledger` and adds to it the deltas that
:meth:`Receipts.take` hands out, from every process.

The rule, applied identically on both sides so that churn never produces false misses: a member
(one connection in one room, from its ``joinRoom`` ack at ``join`` until it starts to leave or
close at ``leave``) owes a delivery of a message sent at ``t`` (the sender's wall clock, just
before it sent) exactly when ``join <= t`` and ``leave >= t + grace``. A member who starts to
leave within ``grace`` of a send may or may not get it, so it is neither expected nor counted.
All users of a run read the same clock (one machine, or machines synchronised far better than
``grace``).
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import defaultdict, deque
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["DEFAULT_GRACE_S", "Delivery", "Ledger", "Receipts", "percentile"]

DEFAULT_GRACE_S = 2.0
FORGET_LEFT_AFTER_S = 300.0
Delta = dict[str, Any]
_NEVER = (float("inf"), 0.0)  # the interval of a member who never joined


def percentile(values: list[float], p: float) -> float | None:
    """The nearest-rank ``p``-th percentile (0-100) of ``values``, or None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[min(len(ordered), int(rank)) - 1]


class _Pending:
    """One message's receipts in this process, until it is decidable."""

    __slots__ = ("owed", "room", "seen", "sent_at")

    def __init__(self, room: str, sent_at: float) -> None:
        self.room = room
        self.sent_at = sent_at
        self.seen: set[int] = set()  # members that reported it (repeats are duplicates)
        self.owed: list[int] = []  # of those, the members that had joined before the send


class Receipts:
    """One process's sends, memberships and received broadcasts, waiting to be reported.

    Memberships are keyed by ``(member, room)``; ``member`` is an int unique in this process
    (one per connection). Receipts are held per message until it is decidable — ``grace`` after
    its send — and then counted or dropped by the rule of the module docstring.

    The work is constant per delivery: a receipt is one set insertion and at most one list
    append into its message's :class:`_Pending` (no object of its own), and settling reads each
    receipt once. A process receiving 10,000s of deliveries per second holds them for ``grace``
    without creating objects for the garbage collector to trace.
    """

    def __init__(self, grace: float = DEFAULT_GRACE_S) -> None:
        self.grace = grace
        self.closed_at: float | None = None
        self._open: dict[tuple[int, str], float] = {}
        self._left: dict[tuple[int, str], tuple[float, float]] = {}
        self._left_order: deque[tuple[float, int, str]] = deque()  # to forget old leaves
        self._pending: dict[str, _Pending] = {}
        self._due: list[tuple[float, str]] = []  # heap of (sent_at, key): one per message
        self._sent: list[tuple[str, str, float]] = []
        self._joins: list[tuple[int, str, float]] = []
        self._leaves: list[tuple[int, str, float]] = []
        self._counted: dict[str, int] = defaultdict(int)
        self._duplicates = 0

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def sent(self, key: str, room: str, at: float) -> None:
        """A message with the unique ``key`` was sent to ``room`` at ``at``."""
        if not self.closed:
            self._sent.append((key, room, at))

    def joined(self, member: int, room: str, at: float) -> None:
        """``member`` got its ``joinRoom`` ack for ``room`` at ``at``."""
        if not self.closed and (member, room) not in self._open:
            self._open[member, room] = at
            self._joins.append((member, room, at))

    def left(self, member: int, room: str, at: float) -> None:
        """``member`` started to leave ``room`` (``leaveRoom``, a close, a lost connection)."""
        joined = self._open.pop((member, room), None)
        if joined is not None and not self.closed:
            self._left[member, room] = (joined, at)
            self._left_order.append((at, member, room))
            self._leaves.append((member, room, at))

    def is_member(self, member: int, room: str) -> bool:
        return (member, room) in self._open

    def received(self, member: int, room: str, key: str, sent_at: float) -> bool:
        """A broadcast of ``key`` reached ``member`` in ``room``; False when it is a duplicate
        (the same member reported it before, while the message was still undecided)."""
        pending = self._pending.get(key)
        if pending is None:
            if self.closed:
                return True
            pending = self._pending[key] = _Pending(room, sent_at)
            heapq.heappush(self._due, (sent_at, key))
        elif member in pending.seen:
            self._duplicates += 1
            return False
        pending.seen.add(member)
        joined = self._open.get((member, room))
        if joined is None:
            joined = self._left.get((member, room), _NEVER)[0]
        if joined <= sent_at:
            pending.owed.append(member)
        return True

    def settle(self, now: float) -> None:
        """Count or drop the receipts of every message that is decidable at ``now``."""
        due, grace = self._due, self.grace
        while due and due[0][0] + grace <= now:
            sent_at, key = heapq.heappop(due)
            pending = self._pending.pop(key)
            room, horizon, counted = pending.room, sent_at + grace, 0
            for member in pending.owed:
                if (member, room) in self._open:
                    counted += 1
                else:
                    interval = self._left.get((member, room))
                    if interval is not None and interval[1] >= horizon:
                        counted += 1
            if counted:
                self._counted[key] += counted
        self._forget_leaves(now - FORGET_LEFT_AFTER_S)

    def _forget_leaves(self, before: float) -> None:
        order, left = self._left_order, self._left
        while order and order[0][0] < before:
            at, member, room = order.popleft()
            interval = left.get((member, room))
            if interval is not None and interval[1] == at:
                del left[member, room]

    def close(self, at: float) -> None:
        """Close the books at ``at``: every membership ends then; later events are ignored."""
        if self.closed:
            return
        for member, room in list(self._open):
            self.left(member, room, at)
        self.settle(at)
        self._pending.clear()
        self._due.clear()
        self.closed_at = at

    def take(self) -> Delta:
        """What happened since the last call, as JSON-able data for :meth:`Ledger.add`."""
        delta: Delta = {
            "sent": self._sent,
            "joins": self._joins,
            "leaves": self._leaves,
            "counted": dict(self._counted),
            "duplicates": self._duplicates,
        }
        self._sent, self._joins, self._leaves = [], [], []
        self._counted = defaultdict(int)
        self._duplicates = 0
        return delta


@dataclass
class Delivery:
    """Deliveries expected vs received, over the messages a tally covered."""

    messages: int = 0
    expected: int = 0
    received: int = 0
    missing: int = 0
    extra: int = 0
    duplicates: int = 0
    messages_with_missing: int = 0
    rooms: int = 0  # rooms (and chats) with a message judged: each has its own books
    rooms_with_missing: int = 0
    worst: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        """Delivered share of the expected deliveries (1.0 = all), None when none expected."""
        return None if self.expected == 0 else (self.expected - self.missing) / self.expected

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


@dataclass
class _Room:
    intervals: dict[tuple[str, int], list[list[float | None]]] = field(default_factory=dict)


class Ledger:
    """The whole run's delivery accounts, merged from every process's :class:`Receipts`."""

    def __init__(self, grace: float = DEFAULT_GRACE_S) -> None:
        self.grace = grace
        self.closed_at: float | None = None
        self.sent: dict[str, tuple[str, float]] = {}
        self.counted: dict[str, int] = defaultdict(int)
        self.duplicates = 0
        self._rooms: dict[str, _Room] = defaultdict(_Room)

    def add(self, node: str, delta: Delta) -> None:
        """Merge one process's delta; ``node`` keeps members of different processes apart."""
        for key, room, at in delta.get("sent", ()):
            self.sent[key] = (room, at)
        for member, room, at in delta.get("joins", ()):
            self._rooms[room].intervals.setdefault((node, member), []).append([at, None])
        for member, room, at in delta.get("leaves", ()):
            spans = self._rooms[room].intervals.get((node, member))
            if spans and spans[-1][1] is None:
                spans[-1][1] = at
        for key, count in delta.get("counted", {}).items():
            self.counted[key] += count
        self.duplicates += delta.get("duplicates", 0)

    def close(self, at: float) -> None:
        """The books closed at ``at``: memberships still open ended then."""
        self.closed_at = at

    def tally(
        self, cutoff: float | None = None, since: float = 0.0, until: float = float("inf")
    ) -> Delivery:
        """Delivery over the messages sent at ``t`` with ``since <= t < until`` and
        ``t + grace <= cutoff`` (default: when the books closed; no bound while they are open)."""
        cutoff = self.closed_at if cutoff is None else cutoff
        end = float("inf") if self.closed_at is None else self.closed_at
        by_room: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for key, (room, at) in self.sent.items():
            if since <= at < until and (cutoff is None or at + self.grace <= cutoff):
                by_room[room].append((at, key))
        result = Delivery(duplicates=self.duplicates)
        shortfalls: list[tuple[int, str, str, int]] = []
        for room, messages in by_room.items():
            messages.sort()
            result.rooms += 1
            missing_before = result.missing
            spans = _spans(self._rooms[room], end)
            owed = _owed(spans, [at for at, _ in messages], self.grace)
            for (_at, key), expected in zip(messages, owed, strict=True):
                received = self.counted.get(key, 0)
                result.messages += 1
                result.expected += expected
                result.received += received
                if received < expected:
                    result.missing += expected - received
                    result.messages_with_missing += 1
                    shortfalls.append((expected - received, key, room, expected))
                else:
                    result.extra += received - expected
            if result.missing > missing_before:
                result.rooms_with_missing += 1
        shortfalls.sort(reverse=True)
        result.worst = [
            {"key": key, "room": room, "expected": expected, "missing": missing}
            for missing, key, room, expected in shortfalls[:5]
        ]
        return result


def _spans(room: _Room, end: float) -> list[tuple[float, float]]:
    """Every membership of ``room`` as (join, leave); still open ones end at ``end``."""
    return [
        (span[0], end if span[1] is None else min(span[1], end))
        for spans in room.intervals.values()
        for span in spans
    ]


def _owed(spans: list[tuple[float, float]], times: list[float], grace: float) -> list[int]:
    """For each send time of ``times`` (ascending): how many spans have ``join <= t`` and
    ``leave >= t + grace``. One sweep in join order with a Fenwick tree over the leaves, so
    O((spans + times) log spans) — never spans × times."""
    spans = sorted(spans)
    leaves = sorted(leave for _, leave in spans)
    size = len(leaves)
    tree = [0] * (size + 1)  # tree[k]: inserted leaves in a range of ranks ending at k
    owed: list[int] = []
    added = 0
    for t in times:
        while added < size and spans[added][0] <= t:
            k = bisect_left(leaves, spans[added][1]) + 1
            while k <= size:
                tree[k] += 1
                k += k & -k
            added += 1
        k, gone = bisect_left(leaves, t + grace), 0  # inserted with leave < t + grace
        while k > 0:
            gone += tree[k]
            k -= k & -k
        owed.append(added - gone)
    return owed
