"""WebSocket ``receipt``: move the user's delivered or read marker forward (one write) — in a
chat, telling the other participants of a chat within the bound; in a room, telling nobody
(rooms have no live receipt frames: RECEIPTS.md §9, Rooms)."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import ws_route
from lambdas.contract.receipts import ack_receipt, parse_receipt
from lambdas.contract.room_receipts import RoomReceiptRequest, ack_room_receipt
from lambdas.domain.receipts import marker_from_item
from lambdas.domain.room_receipts import room_receipt
from lambdas.domain.signals import send_receipt


@ws_route(action="receipt")
def handler(frame: dict[str, Any], connection_id: str) -> dict[str, Any]:
    request = parse_receipt(frame)
    who = runtime.connections().identity(connection_id)
    if isinstance(request, RoomReceiptRequest):
        marker, moved = room_receipt(
            runtime.room_receipts(), runtime.user_rooms(), runtime.messages(), who.user_id, request
        )
        return ack_room_receipt(request, marker, moved)
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
