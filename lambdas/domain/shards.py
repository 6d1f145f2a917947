"""Shards of a large room's fan-out: what each carries, and how recipients are split (pure).

Above ``threshold`` recipients the broadcaster does not post a message itself: it splits the
recipients into shards of at most ``size`` connections, in the room's (stable) order, and hands
each shard to the fan-out function, invoked asynchronously — so the shards are delivered in
parallel. A shard is identified by ``(messageId, key)``; its key is its index (``"0003"``), and
a retry of the recipients a shard could not reach gets the key ``"0003.2"`` (attempt 2), so a
recipient is in exactly one shard of each attempt and a delivered one is never retried.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_EVENT_BYTES", "Shard", "ShardEventInvalid", "plan"]

# Lambda's asynchronous invocation payload limit is 256 KB; leave room for the envelope.
MAX_EVENT_BYTES = 240 * 1024
EVENT_KIND = "chatstack.fanoutShard"


class ShardEventInvalid(ValueError):
    """An event the fan-out function cannot read as a shard (never retried: it cannot heal)."""


@dataclass(frozen=True)
class Shard:
    """One slice of a message's recipients, and the frame to post to them."""

    message_id: str
    room_id: str
    key: str
    attempt: int
    connection_ids: tuple[str, ...]
    data: str

    def to_event(self) -> dict[str, Any]:
        """The fan-out function's event (the ``Payload`` of its asynchronous invocation)."""
        return {
            "kind": EVENT_KIND,
            "messageId": self.message_id,
            "roomId": self.room_id,
            "shard": self.key,
            "attempt": self.attempt,
            "connectionIds": list(self.connection_ids),
            "data": self.data,
        }

    @classmethod
    def from_event(cls, event: Any) -> Shard:
        """Read a shard event.

        Raises:
            ShardEventInvalid: the event is not a well-formed shard.
        """
        if not isinstance(event, dict) or event.get("kind") != EVENT_KIND:
            raise ShardEventInvalid("not a fan-out shard event")
        strings = ("messageId", "roomId", "shard", "data")
        if not all(isinstance(event.get(name), str) and event[name] for name in strings):
            raise ShardEventInvalid(f"{', '.join(strings)} must be non-empty strings")
        attempt = event.get("attempt")
        if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
            raise ShardEventInvalid("attempt must be a positive integer")
        ids = event.get("connectionIds")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
            raise ShardEventInvalid("connectionIds must be a non-empty list of strings")
        return cls(
            event["messageId"], event["roomId"], event["shard"], attempt, tuple(ids), event["data"]
        )

    def retry(self, connection_ids: Sequence[str]) -> Shard:
        """The shard of the next attempt, for the recipients this one could not reach."""
        index = self.key.split(".", 1)[0]
        return Shard(
            self.message_id,
            self.room_id,
            f"{index}.{self.attempt + 1}",
            self.attempt + 1,
            tuple(connection_ids),
            self.data,
        )


def _fitting_size(message_id: str, room_id: str, data: str, ids: Sequence[str], size: int) -> int:
    """``size``, lowered so that a shard's event stays under ``MAX_EVENT_BYTES``."""
    envelope = len(json.dumps(Shard(message_id, room_id, "0000.0", 1, ("",), data).to_event()))
    widest = max(len(json.dumps(i)) + 2 for i in ids)  # the id, quoted and escaped, and ", "
    room = max(MAX_EVENT_BYTES - envelope, widest)
    return max(1, min(size, room // widest))


def plan(
    message_id: str,
    room_id: str,
    data: str,
    recipients: Sequence[str],
    threshold: int,
    size: int,
) -> list[Shard]:
    """The shards of one message: none (deliver inline) at or below ``threshold`` recipients,
    else consecutive slices of at most ``size`` recipients each, in the given order."""
    if size < 1:
        raise ValueError("shard size must be at least 1")
    if len(recipients) <= threshold:
        return []
    size = _fitting_size(message_id, room_id, data, recipients, size)
    return [
        Shard(message_id, room_id, f"{n:04d}", 1, tuple(recipients[start : start + size]), data)
        for n, start in enumerate(range(0, len(recipients), size))
    ]
