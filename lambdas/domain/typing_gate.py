"""The rate limit of typing signals: per user, chat and state, at most one per interval.

One small item per (chat, user, state) in the Connections table holds when the next signal is
allowed (``nextAt``, ms); a conditional update takes the slot, so concurrent signals of one user
(two devices, a retry) let exactly one through. The item expires with the table's TTL. Typing
itself is never stored: this is the only write a signal makes.
"""

from __future__ import annotations

import time
from typing import Any

from lambdas.domain import keys

__all__ = ["TypingGate"]

GATE_TTL_SECONDS = 300


class TypingGate:
    def __init__(self, dynamodb: Any, table: str, interval_ms: int) -> None:
        self._db = dynamodb
        self._table = table
        self.interval_ms = interval_ms

    def admit(self, chat_id: str, user_id: str, state: str, now: float | None = None) -> bool:
        """Take the slot of one ``state`` signal of ``user_id`` in ``chat_id``; False when the
        previous one was less than the interval ago."""
        now = time.time() if now is None else now
        now_ms = int(now * 1000)
        try:
            self._db.update_item(
                TableName=self._table,
                Key=keys.typing_gate_key(chat_id, user_id, state),
                UpdateExpression="SET nextAt = :next, #ttl = :ttl",
                ConditionExpression="attribute_not_exists(nextAt) OR nextAt <= :now",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":next": {"N": str(now_ms + self.interval_ms)},
                    ":now": {"N": str(now_ms)},
                    ":ttl": {"N": str(int(now) + GATE_TTL_SECONDS)},
                },
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            return False
        return True
