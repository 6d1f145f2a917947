"""WebSocket ``getMessages``: one page of a room's history, oldest first."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import ws_route
from lambdas.contract.frames import history_frame
from lambdas.contract.validation import parse_history


@ws_route(action="getMessages")
def handler(frame: dict[str, Any], connection_id: str) -> dict[str, Any]:
    request = parse_history(frame)
    messages, next_before = runtime.messages().history(
        request.room_id, request.limit, request.before
    )
    return history_frame(request.room_id, messages, next_before)
