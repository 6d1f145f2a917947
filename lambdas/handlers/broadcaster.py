"""DynamoDB Streams → ``@connections``: deliver new messages to the members of their room."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.domain.fanout import process_stream_batch
from lambdas.logs import logger, with_context


@with_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    store = runtime.connections()
    poster = runtime.poster()
    # Retries stop a second before the function would time out.
    poster.time_left = lambda: context.get_remaining_time_in_millis() / 1000 - 1.0
    report = process_stream_batch(event.get("Records", []), store.members, poster, store.remove)
    logger.info(
        "batch fanned out",
        extra={
            "records": len(event.get("Records", [])),
            "messages": report.messages,
            "delivered": report.delivered,
            "gone": report.gone,
            "failed": report.failed,
            "batch_item_failures": report.batch_item_failures,
        },
    )
    return report.to_response()
