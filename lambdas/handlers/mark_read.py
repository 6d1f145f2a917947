"""REST ``POST /chats/{chatId}/read``: move the caller's read marker (unread count) forward."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import RestRequest, authed_endpoint
from lambdas.contract.chats import check_chat_id, parse_mark_read


@authed_endpoint(body=True)
def handler(request: RestRequest) -> tuple[int, dict[str, Any]]:
    chat_id = check_chat_id(request.path)
    seq = parse_mark_read(request.body)
    return 200, runtime.chats().mark_read(chat_id, request.identity.user_id, seq).to_wire()
