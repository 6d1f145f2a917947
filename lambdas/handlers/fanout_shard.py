"""Fan-out function: delivers one shard of a large room's message (invoked asynchronously)."""

from __future__ import annotations

import dataclasses
from typing import Any

from lambdas import runtime
from lambdas.domain.sharded_fanout import deliver_shard
from lambdas.domain.shards import Shard, ShardEventInvalid
from lambdas.logs import add_keys, logger, with_context


@with_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        shard = Shard.from_event(event)
    except ShardEventInvalid as exc:  # a retry cannot heal it: report and drop the event
        logger.error("not a fan-out shard", extra={"error": str(exc)})
        return {"error": str(exc)}
    add_keys(message_id=shard.message_id, shard=shard.key, attempt=shard.attempt)
    poster = runtime.poster()
    poster.time_left = lambda: context.get_remaining_time_in_millis() / 1000 - 1.0
    report = deliver_shard(
        shard,
        poster,
        runtime.shard_claims(),
        runtime.connections().remove_gone,
        runtime.dispatcher(),
        runtime.settings().shard_attempts,
        lease_seconds=context.get_remaining_time_in_millis() / 1000,
    )
    result = dataclasses.asdict(report)
    logger.info("shard fanned out", extra={"recipients": len(shard.connection_ids), **result})
    return result
