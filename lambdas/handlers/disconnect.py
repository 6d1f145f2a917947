"""WebSocket ``$disconnect``: forget the connection and its room memberships."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.logs import add_keys, with_context


@with_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    connection_id = event["requestContext"]["connectionId"]
    add_keys(connection_id=connection_id, route="$disconnect")
    runtime.connections().remove(connection_id)
    return {"statusCode": 200}
