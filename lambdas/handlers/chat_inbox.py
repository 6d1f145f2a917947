"""DynamoDB Streams (Messages) → the chat lists: each chat message moves its chat up in every
participant's list, with its preview and unread count."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.domain.chat_streams import process_inbox_batch
from lambdas.logs import logger, with_context


@with_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records", [])
    report = process_inbox_batch(records, runtime.chats())
    logger.info("chat lists updated", extra={"records": len(records), **report.counts()})
    return report.to_response()
