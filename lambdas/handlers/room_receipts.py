"""REST ``GET /rooms/{roomId}/receipts``: the caller's delivered and read markers in a room, and
with ``?messageId=&timestamp=`` how many of the other members got and read that message ("read
by K of N", N from the room's directory count). Rooms send no receipt frames: counts on request."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import RestRequest, authed_endpoint
from lambdas.contract.room_receipts import (
    parse_room_receipts_query,
    room_receipt_counts,
    room_receipts_body,
)
from lambdas.contract.validation import room_id_of
from lambdas.domain.room_receipts import room_receipts_summary


@authed_endpoint(body=False)
def handler(request: RestRequest) -> tuple[int, dict[str, Any]]:
    room_id = room_id_of(request.path.get("roomId"))
    position = parse_room_receipts_query(request.query)
    me = request.identity.user_id
    mine, members, reached = room_receipts_summary(
        runtime.room_receipts(), runtime.user_rooms(), runtime.messages(), room_id, me, position
    )
    counts = None
    if position is not None and reached is not None:
        counts = room_receipt_counts(reached, position, me, members)
    return 200, room_receipts_body(room_id, members, mine, counts)
