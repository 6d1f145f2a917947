"""Fan-out: deliver each new message of a stream batch to the connections of its room — or, for
a chat's message, to every open connection of every participant (no join needed)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from lambdas.contract.frames import Message, encode, message_frame
from lambdas.domain.messages import MESSAGE_KIND, message_from_item

__all__ = [
    "BatchReport",
    "ChatAudience",
    "ConnectionGone",
    "Deliveries",
    "DeliveryFailed",
    "DeliveryReport",
    "HandOff",
    "OneAtATime",
    "Poster",
    "deliver_each",
    "fan_out",
    "fan_out_to_users",
    "forget_gone",
    "log_undelivered",
    "process_stream_batch",
    "remove_gone",
]

log = logging.getLogger("chatstack.fanout")


class ConnectionGone(Exception):
    """The connection no longer exists (``@connections`` answered 410 Gone)."""


class DeliveryFailed(Exception):
    """A delivery failed for another reason, after the client's own retries."""


@dataclass
class Deliveries:
    """What became of one frame posted to many connections."""

    delivered: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class Poster(Protocol):
    """Sends one frame to many connections: ``@connections`` POSTs on AWS.

    ``deadline`` (``time.monotonic()`` seconds) ends retries: the invocation's own time budget,
    passed with each call because one poster serves concurrent invocations.
    """

    def deliver(
        self, connection_ids: Sequence[str], data: bytes, deadline: float | None = None
    ) -> Deliveries:
        """Post ``data`` to each connection; one failing never stops the others."""


class OneAtATime:
    """A ``Poster`` built on ``post``, one connection after another (retries are the client's)."""

    def post(self, connection_id: str, data: bytes) -> None:
        """Deliver ``data``; raises ConnectionGone or DeliveryFailed."""
        raise NotImplementedError

    def deliver(
        self, connection_ids: Sequence[str], data: bytes, deadline: float | None = None
    ) -> Deliveries:
        outcome = Deliveries()
        for connection_id in connection_ids:
            try:
                self.post(connection_id, data)
            except ConnectionGone:
                outcome.gone.append(connection_id)
            except Exception as exc:
                outcome.failed.append(connection_id)
                log.warning(
                    "post failed", extra={"connection_id": connection_id, "error": repr(exc)}
                )
            else:
                outcome.delivered.append(connection_id)
        return outcome


@dataclass
class DeliveryReport:
    """What became of deliveries — one message's, one shard's, a batch's: reports add up.

    ``retried`` recipients were handed to a retry shard (their outcome is that shard's);
    ``shards`` were handed off to the fan-out function (their outcome is theirs to report);
    ``skipped`` shards had been delivered by an earlier invocation.
    """

    messages: int = 0
    delivered: int = 0
    gone: int = 0
    failed: int = 0
    retried: int = 0
    shards: int = 0
    skipped: int = 0

    def add(self, other: DeliveryReport) -> None:
        """Add ``other``'s counts to these."""
        for name in DeliveryReport.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def counts(self) -> dict[str, int]:
        """The counts, for a log line."""
        return {name: getattr(self, name) for name in DeliveryReport.__dataclass_fields__}

    @classmethod
    def of(cls, outcome: Deliveries) -> DeliveryReport:
        return cls(
            delivered=len(outcome.delivered), gone=len(outcome.gone), failed=len(outcome.failed)
        )


class HandOff(Protocol):
    """Takes over a large fan-out (``sharded_fanout.ShardRouter``); None: post it here."""

    def __call__(
        self,
        message: Message,
        recipients: list[str],
        data: bytes,
        poster: Poster,
        deadline: float | None = None,
    ) -> DeliveryReport | None: ...


def fan_out(
    message: Message,
    recipients: Iterable[str],
    poster: Poster,
    remove_connection: Callable[[str, str], bool | None],
    hand_off: HandOff | None = None,
    deadline: float | None = None,
) -> DeliveryReport:
    """Deliver ``message`` to every recipient; one failing recipient never stops the others.

    A recipient that is gone is removed — ``remove_connection(connection_id, room_id)``, the room
    given because the connection's own record may already be gone — and a removal that fails is
    logged and does not stop the rest. ``hand_off`` may take a large room's fan-out over.
    Retries end at ``deadline`` (``time.monotonic()`` seconds).
    """
    data = encode(message_frame(message)).encode("utf-8")
    recipients = list(recipients)
    if hand_off is not None:
        handed = hand_off(message, recipients, data, poster, deadline)
        if handed is not None:
            return handed
    outcome = poster.deliver(recipients, data, deadline)
    remove_gone(outcome.gone, message.room_id, remove_connection)
    log_undelivered(outcome.failed, message_id=message.message_id)
    return DeliveryReport.of(outcome)


def remove_gone(
    gone: Iterable[str], room_id: str, remove_connection: Callable[[str, str], bool | None]
) -> None:
    """Remove each gone connection (with its membership of ``room_id``, named because the
    connection's own record may already be gone); a removal that fails is logged, and the
    others still go."""
    for connection_id in gone:
        try:
            removed = remove_connection(connection_id, room_id)
        except Exception:
            log.exception("removing stale connection %s failed", connection_id)
            continue
        if removed is False:
            log.info(
                "gone connection kept: it may still be completing its handshake",
                extra={"connection_id": connection_id},
            )


def log_undelivered(failed: Iterable[str], **context: object) -> None:
    """One ERROR line per recipient a message could not reach: nothing is dropped silently."""
    for connection_id in failed:
        log.error("delivery failed", extra={"connection_id": connection_id, **context})


class ChatAudience(Protocol):
    """Who receives a chat's messages: the open connections of its participants."""

    def connections(self, chat_id: str) -> dict[str, str]:
        """Connection id → user id of every open connection of every participant."""

    def forget(self, connection_id: str, user_id: str) -> bool | None:
        """Remove a connection of ``user_id`` found gone (unless it just opened)."""

    def reached(self, message: Message, user_ids: set[str]) -> None:
        """``message`` reached a connection of each of ``user_ids`` (for delivered markers)."""


def fan_out_to_users(
    frame: dict[str, Any],
    audience: dict[str, str],
    poster: Poster,
    forget: Callable[[str, str], bool | None],
    deadline: float | None = None,
    on_delivered: Callable[[set[str]], None] | None = None,
    **context: object,
) -> DeliveryReport:
    """Deliver ``frame`` to ``audience`` (connection id → user id); gone connections are
    forgotten (a failure to forget is logged), undelivered ones logged with ``context``.
    Retries end at ``deadline`` (``time.monotonic()`` seconds); ``on_delivered`` is given the
    users at least one of whose connections the frame reached."""
    data = encode(frame).encode("utf-8")
    outcome = poster.deliver(sorted(audience), data, deadline)
    if on_delivered is not None and outcome.delivered:
        on_delivered({audience[c] for c in outcome.delivered})
    forget_gone([(c, audience[c]) for c in outcome.gone], forget)
    log_undelivered(outcome.failed, **context)
    return DeliveryReport.of(outcome)


def deliver_each(
    poster: Poster, jobs: Sequence[tuple[Sequence[str], bytes]], deadline: float | None = None
) -> list[Deliveries]:
    """Each job's frame to its connections — all at once where the poster can (``deliver_many``:
    a connection still gets its frames in job order), else one job after another."""
    many = getattr(poster, "deliver_many", None)
    if many is not None:
        return many(jobs, deadline)
    outcomes: list[Deliveries] = []
    gone: set[str] = set()  # once gone, a connection is not posted to again
    for connection_ids, data in jobs:
        outcome = poster.deliver([c for c in connection_ids if c not in gone], data, deadline)
        outcome.gone += [c for c in connection_ids if c in gone]
        gone.update(outcome.gone)
        outcomes.append(outcome)
    return outcomes


def forget_gone(gone: Iterable[tuple[str, str]], forget: Callable[[str, str], bool | None]) -> None:
    """Forget each gone ``(connection id, user id)`` once; a failure is logged, the rest go."""
    for connection_id, user_id in dict.fromkeys(gone):
        try:
            forget(connection_id, user_id)
        except Exception:
            log.exception("removing stale connection %s failed", connection_id)


@dataclass
class BatchReport(DeliveryReport):
    """A stream batch's deliveries, and the record the event source mapping retries from."""

    batch_item_failures: list[dict[str, str]] = field(default_factory=list)

    def to_response(self) -> dict[str, Any]:
        """The ``ReportBatchItemFailures`` answer to the event source mapping."""
        return {"batchItemFailures": self.batch_item_failures}


def _new_message(record: dict[str, Any]) -> Message | None:
    if record.get("eventName") != "INSERT":
        return None
    image = record.get("dynamodb", {}).get("NewImage") or {}
    if image.get("kind", {}).get("S") != MESSAGE_KIND:
        return None
    return message_from_item(image)


def process_stream_batch(
    records: list[dict[str, Any]],
    members_of: Callable[[str], Iterable[str]],
    poster: Poster,
    remove_connection: Callable[[str, str], bool | None],
    hand_off: HandOff | None = None,
    deadline: float | None = None,
    chats: ChatAudience | None = None,
) -> BatchReport:
    """Fan out every new message in a DynamoDB stream batch, in order.

    A room's members are read once per batch, for its first message there, and reused for its
    later ones: every message of the batch was written before that read, so whoever joined
    before a message was sent is in it (and whoever left before is not). One Query per room
    per batch instead of per message — fewer read units on AWS, less work for every emulator.
    A chat's participants and their connections are read for each of its messages.

    When a record cannot be processed (its room's members — or its chat's participants and their
    connections — cannot be read, or its fan-out fails unexpectedly), it is reported as the batch
    item failure and processing stops there: the event source mapping retries from that record,
    so the records before it are never delivered twice. Without ``chats``, chats' messages are
    left alone (logged).
    """
    report = BatchReport()
    members: dict[str, list[str]] = {}
    posting = _ChatRun(poster, chats, deadline, report)

    def room_members(room_id: str) -> list[str]:
        recipients = members.get(room_id)
        if recipients is None:
            recipients = members[room_id] = list(members_of(room_id))
        return recipients

    for record in records:
        message = _new_message(record)
        if message is None:
            continue
        if message.chat_id is not None and chats is None:
            log.warning("a chat's message, but no chat audience", extra={"chat": message.chat_id})
            continue
        try:
            if message.chat_id is not None:
                posting.add(message, record)
                continue
            posting.post()  # the chats' messages before this one go first
            assert message.room_id is not None
            result = fan_out(
                message,
                room_members(message.room_id),
                poster,
                remove_connection,
                hand_off,
                deadline,
            )
        except Exception:
            log.exception("fanning out message %s failed", message.message_id)
            failed = posting.failed_at or record
            report.batch_item_failures.append(
                {"itemIdentifier": failed["dynamodb"]["SequenceNumber"]}
            )
            break
        report.messages += 1
        report.add(result)
    else:
        try:
            posting.post()
        except Exception:
            log.exception("fanning out the chats' messages of the batch failed")
            failed = posting.failed_at
            assert failed is not None
            report.batch_item_failures.append(
                {"itemIdentifier": failed["dynamodb"]["SequenceNumber"]}
            )
    return report


class _ChatRun:
    """A batch's chat messages in a row, posted together: their audiences are read one message
    after another (a read that fails stops the batch there), then every frame goes out at once
    (``deliver_each``), a connection getting its frames in order."""

    def __init__(
        self,
        poster: Poster,
        chats: ChatAudience | None,
        deadline: float | None,
        report: BatchReport,
    ) -> None:
        self._poster = poster
        self._chats = chats
        self._deadline = deadline
        self._report = report
        self._run: list[tuple[Message, dict[str, str], bytes, dict[str, Any]]] = []
        self.failed_at: dict[str, Any] | None = None  # the record to retry from, if posting failed

    def add(self, message: Message, record: dict[str, Any]) -> None:
        assert self._chats is not None and message.chat_id is not None
        try:
            audience = dict(self._chats.connections(message.chat_id))
        except Exception:
            self.post()  # the messages before it are delivered; the batch retries from it
            raise
        data = encode(message_frame(message)).encode("utf-8")
        self._run.append((message, audience, data, record))

    def post(self) -> None:
        run, self._run = self._run, []
        if not run:
            return
        chats = self._chats
        assert chats is not None
        try:
            jobs = [(sorted(audience), data) for _, audience, data, _ in run]
            outcomes = deliver_each(self._poster, jobs, self._deadline)
        except Exception:
            self.failed_at = run[0][3]
            raise
        gone: list[tuple[str, str]] = []
        for (message, audience, _, _), outcome in zip(run, outcomes, strict=True):
            if outcome.delivered:
                chats.reached(message, {audience[c] for c in outcome.delivered})
            gone += [(c, audience[c]) for c in outcome.gone]
            log_undelivered(outcome.failed, message_id=message.message_id)
            self._report.messages += 1
            self._report.add(DeliveryReport.of(outcome))
        forget_gone(gone, chats.forget)
