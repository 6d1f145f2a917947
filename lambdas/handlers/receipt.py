"""WebSocket ``receipt``: move the user's delivered or read marker in a chat forward (one write),
and tell the other participants of a chat within the bound."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import ws_route
from lambdas.contract.receipts import ack_receipt, parse_receipt
from lambdas.domain.receipts import marker_from_item
from lambdas.domain.signals import send_receipt


@ws_route(action="receipt")
def handler(frame: dict[str, Any], connection_id: str) -> dict[str, Any]:
    request = parse_receipt(frame)
    who = runtime.connections().identity(connection_id)
    item, moved = send_receipt(
        runtime.receipts(),
        runtime.chats(),
        runtime.connections(),
        runtime.poster(),
        who.user_id,
        request,
        runtime.settings().receipts_fanout_max,
    )
    return ack_receipt(request, marker_from_item(item), moved)
