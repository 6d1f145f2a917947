"""REST ``GET /chats/{chatId}``: one chat and its participants, for a participant."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import RestRequest, authed_endpoint
from lambdas.contract.chats import check_chat_id


@authed_endpoint(body=False)
def handler(request: RestRequest) -> tuple[int, dict[str, Any]]:
    chat_id = check_chat_id(request.path)
    return 200, runtime.chats().detail(chat_id, request.identity.user_id).to_wire()
