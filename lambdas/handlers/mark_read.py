"""REST ``POST /chats/{chatId}/read``: move the caller's read marker (unread count) forward, and
tell the other participants of a chat within the bound (the ``receipt`` frame's REST twin)."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import RestRequest, authed_endpoint
from lambdas.contract.chats import check_chat_id, parse_mark_read
from lambdas.contract.receipts import READ, ReceiptRequest
from lambdas.domain.chats import summary_from_item
from lambdas.domain.signals import send_receipt


@authed_endpoint(body=True)
def handler(request: RestRequest) -> tuple[int, dict[str, Any]]:
    wanted = ReceiptRequest(check_chat_id(request.path), READ, parse_mark_read(request.body))
    item, _ = send_receipt(
        runtime.receipts(),
        runtime.chats(),
        runtime.connections(),
        runtime.poster(),
        request.identity.user_id,
        wanted,
        runtime.settings().receipts_fanout_max,
    )
    return 200, summary_from_item(item).to_wire()
