"""Delivery books of the completeness checks: what each member was owed, what it received.

Pure bookkeeping (no sockets), unit-tested on its own. A check sends runs of messages, tells the
book which member is owed which messages (it was a member when they were sent and stayed one)
and which it must not receive (it was out of the room), feeds it every broadcast each member
received, and asks for the problems: per member, what was missing, doubled, altered or received
while out of the room, each message named by its sender and place in the sender's run.

The load tests keep books too (``loadtests/metrics.py``), but of another kind: counts merged
across processes, memberships judged by time with a grace period for churn, ratios over
thousands of users. Here membership is exact (every join and leave is acknowledged before the
sends it matters for) and the report must name each missing delivery and its member.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DeliveryBook", "Sent"]


@dataclass(frozen=True)
class Sent:
    """One message a check sent: its id from the ack, and where it stands in its sender's run."""

    message_id: str
    room: str
    sender: str
    seq: int
    text: str
    at: float | None = None

    def label(self, with_room: bool = False) -> str:
        return f"{self.sender}#{self.seq}" + (f" in {self.room}" if with_room else "")


class DeliveryBook:
    """Sends, what each member is owed or must not receive, and what it received."""

    def __init__(self) -> None:
        self.sent: dict[str, Sent] = {}
        self._runs: Counter[tuple[str, str]] = Counter()
        self._owed: dict[str, set[str]] = defaultdict(set)
        self._forbidden: dict[str, set[str]] = defaultdict(set)
        self._ignored: dict[str, set[str]] = defaultdict(set)
        self._received: dict[str, Counter[str]] = defaultdict(Counter)
        self._altered: dict[str, list[str]] = defaultdict(list)
        self._unknown: dict[str, list[str]] = defaultdict(list)
        self._latencies: list[float] = []

    def send(
        self, message_id: str, room: str, sender: str, text: str, at: float | None = None
    ) -> Sent:
        """Book a message acknowledged with ``message_id``; ``at``: when its send started."""
        self._runs[sender, room] += 1
        sent = Sent(message_id, room, sender, self._runs[sender, room], text, at)
        self.sent[message_id] = sent
        return sent

    def owe(self, member: str, messages: Iterable[Sent]) -> None:
        """``member`` must receive each of ``messages`` exactly once."""
        self._owed[member].update(m.message_id for m in messages)

    def forbid(self, member: str, messages: Iterable[Sent]) -> None:
        """``member`` must not receive any of ``messages`` (it was out of their room)."""
        self._forbidden[member].update(m.message_id for m in messages)

    def ignore(self, member: str, messages: Iterable[Sent]) -> None:
        """From now on, receipts of ``messages`` by ``member`` are neither required nor wrong."""
        self._ignored[member].update(m.message_id for m in messages)

    def receive(self, member: str, frame: Mapping[str, Any], at: float | None = None) -> None:
        """``member`` received the broadcast ``frame`` (at ``at``, on the sends' clock)."""
        message_id = frame.get("messageId")
        if not isinstance(message_id, str) or message_id not in self.sent:
            self._unknown[member].append(str(dict(frame))[:200])
            return
        if message_id in self._ignored[member]:
            return
        self._received[member][message_id] += 1
        sent = self.sent[message_id]
        if frame.get("roomId") != sent.room or frame.get("message") != sent.text:
            self._altered[member].append(
                f"{sent.label()} came as roomId={frame.get('roomId')!r} "
                f"message={str(frame.get('message'))[:40]!r}"
            )
        if at is not None and sent.at is not None and self._received[member][message_id] == 1:
            self._latencies.append((at - sent.at) * 1000)

    def complete(self, member: str) -> bool:
        """Whether ``member`` has received every message it is owed (at least once)."""
        received = self._received[member]
        return all(received[m] for m in self._owed[member])

    def latencies_ms(self) -> list[float]:
        """Send-to-receive times of first receipts, in milliseconds."""
        return list(self._latencies)

    def problems(self) -> list[str]:
        """One line per member whose deliveries were wrong; empty when every member got its due."""
        members = sorted(set(self._owed) | set(self._received) | set(self._unknown))
        lines = []
        for member in members:
            received = self._received[member]
            owed = self._owed[member]
            faults = []
            missing = self._labels(m for m in owed if not received[m])
            if missing:
                faults.append(f"missing {len(missing)} of {len(owed)}: {', '.join(missing)}")
            doubled = [
                f"{label} x{received[m]}"
                for m, label in self._labelled(m for m, n in received.items() if n > 1)
            ]
            if doubled:
                faults.append(f"doubled: {', '.join(sorted(doubled))}")
            leaked = self._labels(m for m in self._forbidden[member] if received[m])
            if leaked:
                faults.append(f"received while out of the room: {', '.join(leaked)}")
            if self._altered[member]:
                faults.append(f"altered: {'; '.join(self._altered[member])}")
            if self._unknown[member]:
                faults.append(f"frames of no message sent: {'; '.join(self._unknown[member])}")
            if faults:
                lines.append(f"{member}: " + "; ".join(faults))
        return lines

    def _labels(self, message_ids: Iterable[str]) -> list[str]:
        return [label for _, label in self._labelled(message_ids)]

    def _labelled(self, message_ids: Iterable[str]) -> list[tuple[str, str]]:
        """(id, label) sorted by room, sender and place; rooms are named when there are several."""
        sent = sorted((self.sent[m] for m in message_ids), key=lambda s: (s.room, s.sender, s.seq))
        with_room = len({s.room for s in self.sent.values()}) > 1
        return [(s.message_id, s.label(with_room)) for s in sent]
