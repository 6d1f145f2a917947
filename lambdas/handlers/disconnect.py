"""WebSocket ``$disconnect``: forget the connection and its room memberships; the user's last
connection tells their chat partners that the user is offline (and since when)."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.domain.signals import announce_presence
from lambdas.logs import add_keys, with_context


@with_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    connection_id = event["requestContext"]["connectionId"]
    add_keys(connection_id=connection_id, route="$disconnect")
    s = runtime.settings()
    for presence in runtime.connections().remove(connection_id):
        announce_presence(
            runtime.chats(),
            runtime.connections(),
            runtime.poster(),
            presence,
            s.receipts_fanout_max,
            s.presence_max_chats,
        )
    return {"statusCode": 200}
