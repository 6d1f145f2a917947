"""Fan-out function: delivers one shard of a large room's message (invoked asynchronously)."""

from __future__ import annotations

import functools
import time
from typing import Any

from lambdas import runtime
from lambdas.domain.sharded_fanout import deliver_shard
from lambdas.domain.shards import Shard, ShardEventInvalid
from lambdas.domain.signals import offline_announcer
from lambdas.logs import add_keys, logger, with_context


@with_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        shard = Shard.from_event(event)
    except ShardEventInvalid as exc:  # a retry cannot heal it: report and drop the event
        logger.error("not a fan-out shard", extra={"error": str(exc)})
        return {"error": str(exc)}
    add_keys(message_id=shard.message_id, shard=shard.key, attempt=shard.attempt)
    s = runtime.settings()
    store = runtime.connections()
    offline = offline_announcer(  # a connection found gone was its user's last: tell partners
        runtime.chats(), store, runtime.poster(), s.receipts_fanout_max, s.presence_max_chats
    )
    remaining = context.get_remaining_time_in_millis() / 1000
    report = deliver_shard(
        shard,
        runtime.poster(),
        runtime.shard_claims(),
        functools.partial(store.remove_gone, on_offline=offline),
        runtime.dispatcher(),
        s.shard_attempts,
        lease_seconds=remaining,
        deadline=time.monotonic() + remaining - 1.0,  # retries stop a second before the timeout
    )
    result = report.counts()
    logger.info("shard fanned out", extra={"recipients": len(shard.connection_ids), **result})
    return result
