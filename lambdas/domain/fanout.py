"""Fan-out: deliver each new message of a stream batch to the connections of its room."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from lambdas.contract.frames import Message, encode, message_frame
from lambdas.domain.messages import MESSAGE_KIND, message_from_item

__all__ = [
    "BatchReport",
    "ConnectionGone",
    "Deliveries",
    "DeliveryFailed",
    "FanoutReport",
    "HandOff",
    "OneAtATime",
    "Poster",
    "fan_out",
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

    ``time_left()`` says how many seconds remain for retries (the function's budget).
    """

    time_left: Callable[[], float]

    def deliver(self, connection_ids: Sequence[str], data: bytes) -> Deliveries:
        """Post ``data`` to each connection; one failing never stops the others."""


class OneAtATime:
    """A ``Poster`` built on ``post``, one connection after another."""

    time_left: Callable[[], float] = staticmethod(lambda: float("inf"))

    def post(self, connection_id: str, data: bytes) -> None:
        """Deliver ``data``; raises ConnectionGone or DeliveryFailed."""
        raise NotImplementedError

    def deliver(self, connection_ids: Sequence[str], data: bytes) -> Deliveries:
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
class FanoutReport:
    delivered: int = 0
    gone: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    shards: int = 0  # handed off to the fan-out function (their outcome is theirs to report)


class HandOff(Protocol):
    """Takes over a large fan-out (``sharded_fanout.ShardRouter``); None: post it here."""

    def __call__(
        self, message: Message, recipients: list[str], data: bytes, poster: Poster
    ) -> FanoutReport | None: ...


def fan_out(
    message: Message,
    recipients: Iterable[str],
    poster: Poster,
    remove_connection: Callable[[str, str], bool | None],
    hand_off: HandOff | None = None,
) -> FanoutReport:
    """Deliver ``message`` to every recipient; one failing recipient never stops the others.

    A recipient that is gone is removed — ``remove_connection(connection_id, room_id)``, the room
    given because the connection's own record may already be gone — and a removal that fails is
    logged and does not stop the rest. ``hand_off`` may take a large room's fan-out over.
    """
    data = encode(message_frame(message)).encode("utf-8")
    recipients = list(recipients)
    if hand_off is not None:
        handed = hand_off(message, recipients, data, poster)
        if handed is not None:
            return handed
    outcome = poster.deliver(recipients, data)
    remove_gone(outcome.gone, message.room_id, remove_connection)
    log_undelivered(outcome.failed, message_id=message.message_id)
    return FanoutReport(delivered=len(outcome.delivered), gone=outcome.gone, failed=outcome.failed)


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


@dataclass
class BatchReport:
    messages: int = 0
    delivered: int = 0
    gone: int = 0
    failed: int = 0
    shards: int = 0
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
) -> BatchReport:
    """Fan out every new message in a DynamoDB stream batch, in order.

    When a record cannot be processed (its room's members cannot be read), it is reported as the
    batch item failure and processing stops there: the event source mapping retries from that
    record, so the records before it are never delivered twice.
    """
    report = BatchReport()
    for record in records:
        message = _new_message(record)
        if message is None:
            continue
        try:
            recipients = list(members_of(message.room_id))
        except Exception:
            log.exception("reading the members of room %s failed", message.room_id)
            report.batch_item_failures.append(
                {"itemIdentifier": record["dynamodb"]["SequenceNumber"]}
            )
            break
        result = fan_out(message, recipients, poster, remove_connection, hand_off)
        report.messages += 1
        report.delivered += result.delivered
        report.gone += len(result.gone)
        report.failed += len(result.failed)
        report.shards += result.shards
    return report
