"""WebSocket ``leaveRoom``."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import ws_route
from lambdas.contract.frames import ack_room
from lambdas.contract.validation import parse_room


@ws_route(action="leaveRoom")
def handler(frame: dict[str, Any], connection_id: str) -> dict[str, Any]:
    request = parse_room(frame)
    runtime.connections().leave(connection_id, request.room_id)
    return ack_room("leaveRoom", request.room_id)
