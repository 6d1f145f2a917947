"""DynamoDB Streams (Chats) → ``chatAdded`` / ``chatRemoved`` on every open connection of a
participant added to, or gone from, a chat."""

from __future__ import annotations

import time
from typing import Any

from lambdas import runtime
from lambdas.domain.chat_streams import process_chat_events
from lambdas.logs import logger, with_context


@with_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # Retries stop a second before the function would time out.
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - 1.0
    records = event.get("Records", [])
    report = process_chat_events(
        records, runtime.chats(), runtime.connections(), runtime.poster(), deadline
    )
    logger.info("chat events sent", extra={"records": len(records), **report.counts()})
    return report.to_response()
