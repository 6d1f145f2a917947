"""REST ``GET /chats/{chatId}/receipts``: every participant's delivered and read markers, and
with ``?seq=`` how many of the others got and read that message ("read by K of N")."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import RestRequest, authed_endpoint
from lambdas.contract.chats import check_chat_id
from lambdas.contract.receipts import parse_receipts_query, receipt_counts


@authed_endpoint(body=False)
def handler(request: RestRequest) -> tuple[int, dict[str, Any]]:
    chat_id = check_chat_id(request.path)
    seq = parse_receipts_query(request.query)
    me = request.identity.user_id
    markers = runtime.receipts().markers(chat_id, me)
    fanout_max = runtime.settings().receipts_fanout_max
    return 200, {
        "chatId": chat_id,
        "participants": len(markers),
        "live": len(markers) <= fanout_max,  # receipt frames are sent for this chat
        "liveMax": fanout_max,
        "receipts": [m.to_wire() for m in markers],
        "counts": receipt_counts(markers, seq, me) if seq is not None else None,
    }
