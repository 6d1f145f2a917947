"""REST ``POST /chats/{chatId}/leave``: the caller leaves a group (the last one out ends it)."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import RestRequest, authed_endpoint
from lambdas.contract.chats import check_chat_id


@authed_endpoint(body=False)
def handler(request: RestRequest) -> tuple[int, dict[str, Any]]:
    chat_id = check_chat_id(request.path)
    runtime.chats().leave(chat_id, request.identity.user_id)
    return 200, {"chatId": chat_id, "left": True}
