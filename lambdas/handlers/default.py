"""WebSocket ``$default``: frames that are not JSON or name no known action."""

from __future__ import annotations

from typing import Any

from lambdas.apigw import ws_route
from lambdas.contract.errors import UnknownAction
from lambdas.contract.validation import parse_action


@ws_route(action=None)
def handler(frame: dict[str, Any], connection_id: str) -> dict[str, Any]:
    action = parse_action(frame)  # raises UnknownAction for a missing or unknown one
    raise UnknownAction(f"action {action!r} is not routed on this stage")
