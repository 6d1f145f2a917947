"""Claims on fan-out shards, in the Connections table: each shard is delivered once.

An asynchronous invocation may arrive twice (Lambda promises at least once) and is retried after
a function error, so the fan-out function claims a shard before posting it: one conditional put
of ``fanout#{messageId}`` / ``shard#{key}`` with a lease as long as the claimant's time budget.
A finished shard is marked done and never posted again; a claim whose lease ran out unfinished
(its claimant crashed) may be taken over; a claim under a live lease is busy — the invocation
fails and Lambda retries it later.
"""

from __future__ import annotations

import time
from typing import Any

from lambdas.domain.shards import Shard

__all__ = ["CLAIM_TTL_SECONDS", "ShardBusy", "ShardClaims"]

# Lambda keeps an asynchronous event for up to 6 hours; claims outlive every retry of it.
CLAIM_TTL_SECONDS = 6 * 3600


class ShardBusy(Exception):
    """Another invocation holds a live claim on this shard: retry later."""


def _key(shard: Shard) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"fanout#{shard.message_id}"}, "sk": {"S": f"shard#{shard.key}"}}


class ShardClaims:
    """Claims on shards, over a boto3 DynamoDB client."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self._db = dynamodb
        self._table = table

    def claim(self, shard: Shard, lease_seconds: float, now: float | None = None) -> bool:
        """Claim ``shard`` for ``lease_seconds``; False when it was already delivered.

        Raises:
            ShardBusy: another invocation holds a live claim on it.
        """
        now = time.time() if now is None else now
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    **_key(shard),
                    "recipients": {"N": str(len(shard.connection_ids))},
                    "leaseUntil": {"N": f"{now + lease_seconds:.3f}"},
                    "ttl": {"N": str(int(now) + CLAIM_TTL_SECONDS)},
                },
                ConditionExpression=(
                    "attribute_not_exists(pk) OR "
                    "(attribute_not_exists(doneAt) AND leaseUntil < :now)"
                ),
                ExpressionAttributeValues={":now": {"N": f"{now:.3f}"}},
            )
        except self._db.exceptions.ConditionalCheckFailedException:
            held = self._db.get_item(TableName=self._table, Key=_key(shard), ConsistentRead=True)
            if "doneAt" in held.get("Item", {}):
                return False
            raise ShardBusy(f"shard {shard.key} of {shard.message_id} is being delivered") from None
        return True

    def finish(self, shard: Shard, now: float | None = None) -> None:
        """Mark ``shard`` delivered: later invocations of it do nothing."""
        now = time.time() if now is None else now
        self._db.update_item(
            TableName=self._table,
            Key=_key(shard),
            UpdateExpression="SET doneAt = :now",
            ExpressionAttributeValues={":now": {"N": f"{now:.3f}"}},
        )
