"""DynamoDB Streams → ``@connections``: deliver new messages to the members of their room, or to
every open connection of their chat's participants.

Rooms above ``CHATSTACK_SHARD_THRESHOLD`` members are handed to the fan-out function in shards.
"""

from __future__ import annotations

import functools
import time
from typing import Any

from lambdas import runtime
from lambdas.domain.chat_streams import chat_audience
from lambdas.domain.fanout import process_stream_batch
from lambdas.domain.sharded_fanout import ShardRouter
from lambdas.domain.signals import offline_announcer
from lambdas.logs import logger, with_context


@with_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    s = runtime.settings()
    store = runtime.connections()

    offline = offline_announcer(  # a connection found gone was its user's last: tell partners
        runtime.chats(), store, runtime.poster(), s.receipts_fanout_max, s.presence_max_chats
    )
    remove_gone = functools.partial(store.remove_gone, on_offline=offline)
    forget = functools.partial(store.forget, on_offline=offline)
    dispatcher = runtime.dispatcher()
    # Retries stop a second before the function would time out.
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - 1.0
    router = None
    if dispatcher is not None:
        router = ShardRouter(
            dispatcher,
            runtime.shard_claims(),
            remove_gone,
            s.shard_threshold,
            s.shard_size,
            s.shard_attempts,
            lease_seconds=lambda: context.get_remaining_time_in_millis() / 1000,
        )
    records = event.get("Records", [])
    chats = chat_audience(runtime.chats(), store, forget)
    report = process_stream_batch(
        records, store.members, runtime.poster(), remove_gone, router, deadline, chats
    )
    # Delivered markers: one write per (chat, participant) reached in this batch.
    moved = 0
    if chats.markers.newest:
        moved = chats.markers.flush(
            runtime.receipts(), runtime.poster(), forget, s.receipts_fanout_max, deadline
        )
    logger.info(
        "batch fanned out",
        extra={"records": len(records), "markers": moved, **report.counts()},
    )
    return report.to_response()
