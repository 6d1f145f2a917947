"""Handlers a stage runs in place of the real ones, to set up a race deterministically."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.domain.messages import message_item
from lambdas.handlers import broadcaster, connect


def connect_during_a_broadcast(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """$connect, then — before it returns, so before the handshake completes — the broadcaster
    delivers a message to ``general``, which this connection has just joined: ``@connections``
    answers 410 for it, as API Gateway does for a connection not yet established."""
    result = connect.handler(event, context)
    if result.get("statusCode") == 200:
        message, _ = runtime.messages().put("general", "racer", "racer", "mid-handshake", None)
        record = {
            "eventName": "INSERT",
            "dynamodb": {"NewImage": message_item(message), "SequenceNumber": "1"},
        }
        broadcaster.handler({"Records": [record]}, context)
    return result
