"""DynamoDB Streams → ``@connections``: deliver new messages to the members of their room."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.domain.fanout import process_stream_batch
from lambdas.logs import logger, with_context


@with_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    store = runtime.connections()
    report = process_stream_batch(
        event.get("Records", []), store.members, runtime.poster(), store.remove
    )
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
