"""WebSocket ``typing``: a participant started or stopped typing — fanned out to the other
participants' connections, rate-limited, never stored."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import ws_route
from lambdas.contract.receipts import ack_typing, parse_typing
from lambdas.domain.signals import send_typing


@ws_route(action="typing")
def handler(frame: dict[str, Any], connection_id: str) -> dict[str, Any]:
    request = parse_typing(frame)
    who = runtime.connections().identity(connection_id)
    send_typing(
        runtime.chats(),
        runtime.connections(),
        runtime.typing_gate(),
        runtime.poster(),
        who,
        request,
    )
    return ack_typing(request)
